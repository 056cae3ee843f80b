//! The password login and password changes: the orchestration of core rules, hashing and
//! storage that the JSON API (and later the hosted pages) share.

use crate::error::ApiError;
use crate::state::AppState;
use sekisho_core::audit::{Actor, ClientInfo, EventType, NewAuditEvent};
use sekisho_core::clock::random_bytes;
use sekisho_core::login::{AfterPassword, Login};
use sekisho_core::password::PasswordPolicy;
use sekisho_core::session::{Session, SessionPurpose};
use sekisho_core::validate::LoginId;
use sekisho_core::{token, Error, Timestamp};
use sekisho_store::NewSession;

/// A session handed to the client: the token (shown once) and its record.
pub struct Issued {
    /// The bearer token.
    pub token: String,
    /// The stored session.
    pub session: Session,
}

/// Checks login ID and password and, if all rules pass, opens a full session.
pub async fn password_login(
    state: &AppState,
    client: &ClientInfo,
    login_id: &str,
    password: &str,
) -> Result<Issued, ApiError> {
    let result = password_login_inner(state, client, login_id, password).await;
    state.metrics.login(match &result {
        Ok(_) => "succeeded",
        Err(e) => e.error.name(),
    });
    result
}

async fn password_login_inner(
    state: &AppState,
    client: &ClientInfo,
    login_id: &str,
    password: &str,
) -> Result<Issued, ApiError> {
    let password = PasswordPolicy::normalize(password);
    let login = match LoginId::parse(login_id) {
        Ok(id) => state.store.get_login(id.as_str()).await?,
        Err(_) => None,
    };
    let Some(login) = login else {
        // Same work and the same answer as a wrong password.
        state.hashes.verify(&state.metrics, password, None).await?;
        let attempted: String = login_id.chars().take(64).collect();
        let ev = event(
            state,
            EventType::LoginFailed,
            Some(&attempted),
            Actor::SelfService,
            client,
            "unknown login ID",
        )
        .with_error(Error::InvalidCredentials.code());
        state.store.append_audit(&ev).await?;
        return Err(Error::InvalidCredentials.into());
    };
    let ok = state
        .hashes
        .verify(&state.metrics, password, login.password_hash.clone())
        .await?;
    let now = state.clock.now();
    if !ok {
        let policy = &state.settings.password_policy;
        let reason = if login.password_hash.is_some() {
            "wrong password"
        } else {
            "no password set"
        };
        let ev = event(
            state,
            EventType::LoginFailed,
            Some(&login.login_id),
            Actor::SelfService,
            client,
            reason,
        )
        .with_error(Error::InvalidCredentials.code());
        let lock = event(
            state,
            EventType::LoginLocked,
            Some(&login.login_id),
            Actor::System,
            client,
            format!(
                "locked after {} consecutive password failures",
                policy.lockout_threshold
            ),
        );
        state
            .store
            .record_password_failure(login.id, policy.lockout_threshold, now, &ev, &lock)
            .await?;
        return Err(Error::InvalidCredentials.into());
    }
    match login.after_password(&state.settings.password_policy, now) {
        Err(e) => {
            refuse(state, client, &login, &e, e.name()).await?;
            Err(e.into())
        }
        Ok(AfterPassword::ChangeRequired(reason)) => {
            let lifetime = state.settings.password_change_secs;
            let issued = open_session(
                state,
                client,
                &login,
                SessionPurpose::PasswordChange,
                now.plus_secs(lifetime),
                &format!("password change required ({})", reason.as_str()),
                EventType::LoginFailed,
                Some(Error::PasswordChangeRequired.code()),
            )
            .await?;
            Err(ApiError::from(Error::PasswordChangeRequired)
                .with("reason", reason.as_str())
                .with("password_change_token", issued.token)
                .with("password_change_url", "/api/v1/me/password")
                .with("expires_at", issued.session.expires_at.to_rfc3339()))
        }
        Ok(AfterPassword::Proceed) => {
            if login.mfa_required {
                // No second factor can be registered yet, so a login that requires one cannot
                // complete; the factor issues add enrolment and verification here.
                let e = Error::SecondFactorNotInitialized;
                refuse(
                    state,
                    client,
                    &login,
                    &e,
                    "second factor required but not registered",
                )
                .await?;
                return Err(e.into());
            }
            let expires = now.plus_secs(state.settings.session.absolute_secs);
            open_session(
                state,
                client,
                &login,
                SessionPurpose::Full,
                expires,
                "password",
                EventType::LoginSucceeded,
                None,
            )
            .await
        }
    }
}

async fn refuse(
    state: &AppState,
    client: &ClientInfo,
    login: &Login,
    e: &Error,
    reason: &str,
) -> Result<(), ApiError> {
    let ev = event(
        state,
        EventType::LoginFailed,
        Some(&login.login_id),
        Actor::SelfService,
        client,
        reason,
    )
    .with_error(e.code());
    state.store.append_audit(&ev).await?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn open_session(
    state: &AppState,
    client: &ClientInfo,
    login: &Login,
    purpose: SessionPurpose,
    expires_at: Timestamp,
    description: &str,
    event_type: EventType,
    error_code: Option<&str>,
) -> Result<Issued, ApiError> {
    let now = state.clock.now();
    let tok = token::generate("skss", state.rng.as_ref());
    let new = NewSession {
        token_hash: token::hash(&tok),
        login_pk: login.id,
        purpose,
        methods: vec!["pwd".into()],
        now,
        expires_at,
        client_ip: client.ip.clone(),
        user_agent: client.user_agent.clone(),
        challenge_id: None,
    };
    let mut ev = event(
        state,
        event_type,
        Some(&login.login_id),
        Actor::SelfService,
        client,
        description,
    );
    ev.error_code = error_code.map(str::to_owned);
    match state.store.create_session(&new, &ev).await? {
        Some(session) => Ok(Issued {
            token: tok,
            session,
        }),
        // Locked or disabled between the password check and now.
        None => Err(Error::LoginLocked.into()),
    }
}

/// Checks a new password against the policy and the login's history, then hashes it.
pub async fn new_password_hash(
    state: &AppState,
    login: &Login,
    password: &str,
) -> Result<String, ApiError> {
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

/// Verifies the current password for a change; a wrong one counts as a failure toward the lock.
pub async fn check_current_password(
    state: &AppState,
    client: &ClientInfo,
    login: &Login,
    password: &str,
) -> Result<(), ApiError> {
    let password = PasswordPolicy::normalize(password);
    if state
        .hashes
        .verify(&state.metrics, password, login.password_hash.clone())
        .await?
    {
        return Ok(());
    }
    let policy = &state.settings.password_policy;
    let e = Error::CurrentPasswordInvalid;
    let ev = event(
        state,
        EventType::PasswordChanged,
        Some(&login.login_id),
        Actor::SelfService,
        client,
        "refused: wrong current password",
    )
    .with_error(e.code());
    let lock = event(
        state,
        EventType::LoginLocked,
        Some(&login.login_id),
        Actor::System,
        client,
        format!(
            "locked after {} consecutive password failures",
            policy.lockout_threshold
        ),
    );
    state
        .store
        .record_password_failure(
            login.id,
            policy.lockout_threshold,
            state.clock.now(),
            &ev,
            &lock,
        )
        .await?;
    Err(e.into())
}

/// An audit event stamped with the state's clock.
pub fn event(
    state: &AppState,
    event_type: EventType,
    login_id: Option<&str>,
    actor: Actor,
    client: &ClientInfo,
    description: impl Into<String>,
) -> NewAuditEvent {
    NewAuditEvent::new(
        state.clock.now(),
        event_type,
        login_id,
        actor,
        client,
        description,
    )
}
