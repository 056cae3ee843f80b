//! The one place where a factor's refused answer is settled: every verifier (password,
//! authenticator app, token, recovery codes, e-mail code, operators' password and code) hands
//! its [`Verdict`] here, and the rule of `sekisho_core::lockout` decides whether it counts; this
//! module writes the count with its audit records (one transaction, in the store) and sends the
//! lock notice. An accepted answer never reaches it, so the validation hot path pays nothing.

use crate::error::AppError;
use crate::mail::notices::Notice;
use crate::state::App;
use sekisho_core::audit::{Actor, ClientInfo, EventType};
use sekisho_core::lockout::{self, Counted, Decision, Guarded, LockNotice, Verdict};
use sekisho_core::Error;
use sekisho_store::OperatorFailure;

/// Where a factor's failures are counted.
#[derive(Debug, Clone, Copy)]
pub enum Counter {
    /// A customer's password (the login's key).
    Password(i64),
    /// An authenticator app (the factor's key).
    App(i64),
    /// A hardware or software token (the token's key).
    Token(i64),
    /// A customer's recovery codes (the login's key).
    RecoveryCodes(i64),
    /// The e-mail code of one login attempt (the challenge's key).
    EmailCode(i64),
    /// An operator's password or code (the operator's key).
    Operator(i64, OperatorFailure),
}

impl Counter {
    fn guarded(self) -> Guarded {
        match self {
            Counter::Password(_) => Guarded::Password,
            Counter::App(_) => Guarded::App,
            Counter::Token(_) => Guarded::Token,
            Counter::RecoveryCodes(_) => Guarded::RecoveryCodes,
            Counter::EmailCode(_) => Guarded::EmailCode,
            Counter::Operator(_, OperatorFailure::Password) => Guarded::OperatorPassword,
            Counter::Operator(_, OperatorFailure::Code) => Guarded::OperatorCode,
        }
    }
}

/// A refused answer of one factor, with what its audit records need.
pub struct Refusal<'a> {
    /// Where the failure counts.
    pub counter: Counter,
    /// Consecutive failures that lock it.
    pub threshold: u32,
    /// The factor as the history names it (`authenticator app`, `token HW-1`, `recovery codes`).
    pub subject: &'a str,
    /// The login concerned (operators: none).
    pub login_id: Option<&'a str>,
    /// Who answered.
    pub actor: Actor,
    /// Where the answer came from.
    pub client: &'a ClientInfo,
    /// The audit event of the refusal.
    pub event_type: EventType,
    /// Why it was refused (the refusal's audit description).
    pub reason: &'a str,
    /// The error whose code the refusal's audit record carries.
    pub error: Error,
}

/// What settling a refusal came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settled {
    /// [`Verdict::Locked`] when this failure locked the factor (or it was locked already),
    /// [`Verdict::Replayed`] for a used code, otherwise [`Verdict::Wrong`].
    pub answer: Verdict,
    /// Consecutive failures after this one (0 when not counted).
    pub failures: i64,
}

/// Settles a refused answer: audits it, counts it when the rule says so, audits the lock of
/// the failure that reaches the threshold, ends the login's sessions when the rule says the
/// lock does (the password lock) and sends the customer the lock notice.
pub async fn settle(state: &App, verdict: Verdict, r: Refusal<'_>) -> Result<Settled, AppError> {
    let ev = state
        .event(
            r.event_type,
            r.login_id,
            r.actor.clone(),
            r.client,
            r.reason,
        )
        .with_error(r.error.code());
    match lockout::decide(verdict) {
        Decision::Accept => Ok(Settled {
            answer: verdict,
            failures: 0,
        }),
        Decision::RefuseUncounted => {
            state.store.append_audit(&ev).await?;
            Ok(Settled {
                answer: verdict,
                failures: 0,
            })
        }
        Decision::Count => {
            let factor = r.counter.guarded();
            let lock = state.event(
                lock_event(factor),
                r.login_id,
                lock_actor(factor, &r.actor),
                r.client,
                factor.lock_description(r.subject, r.reason, r.threshold),
            );
            let counted = count(state, r.counter, r.threshold, &ev, &lock).await?;
            let after = lockout::after_failure(factor, counted);
            if let (true, Counter::Password(pk)) = (after.revoke_sessions, r.counter) {
                let ev = state.event(
                    EventType::SessionRevoked,
                    r.login_id,
                    Actor::System,
                    r.client,
                    "sessions revoked: login locked",
                );
                state
                    .store
                    .revoke_login_sessions(pk, state.clock.now(), &ev)
                    .await?;
            }
            if let (Some(notice), Some(login_id)) = (after.notice, r.login_id) {
                let factor = notice == LockNotice::SecondFactor;
                crate::notify::send_to(state, login_id, &Notice::Locked { factor }).await;
            }
            Ok(Settled {
                answer: after.answer,
                failures: counted.failures,
            })
        }
    }
}

fn lock_event(factor: Guarded) -> EventType {
    match factor {
        Guarded::Password => EventType::LoginLocked,
        Guarded::OperatorPassword | Guarded::OperatorCode => EventType::OperatorLocked,
        Guarded::App | Guarded::Token | Guarded::RecoveryCodes | Guarded::EmailCode => {
            EventType::SecondFactorLocked
        }
    }
}

/// A customer's factor is locked by the system; an operator's history keeps the operator.
fn lock_actor(factor: Guarded, actor: &Actor) -> Actor {
    match factor {
        Guarded::OperatorPassword | Guarded::OperatorCode => actor.clone(),
        _ => Actor::System,
    }
}

async fn count(
    state: &App,
    counter: Counter,
    threshold: u32,
    ev: &sekisho_core::audit::NewAuditEvent,
    lock: &sekisho_core::audit::NewAuditEvent,
) -> Result<Counted, AppError> {
    let now = state.clock.now();
    let s = &state.store;
    let out = match counter {
        Counter::Password(pk) => {
            s.record_password_failure(pk, threshold, now, ev, lock)
                .await?
        }
        Counter::App(id) => s.fail_otp(id, threshold, now, ev, lock).await?,
        Counter::Token(id) => s.fail_token(id, threshold, now, ev, lock).await?,
        Counter::RecoveryCodes(pk) => s.fail_recovery_code(pk, threshold, now, ev, lock).await?,
        Counter::Operator(id, kind) => {
            s.record_operator_failure(id, kind, threshold, now, ev, lock)
                .await?
        }
        Counter::EmailCode(id) => {
            return Ok(Counted {
                failures: s.fail_email_code(id, ev).await?,
                newly_locked: false,
            })
        }
    };
    Ok(Counted {
        failures: out.failed_logins,
        newly_locked: out.newly_locked,
    })
}

/// The locks an operator's unlock of a login cleared.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cleared {
    /// The password lock.
    pub password: bool,
    /// The authenticator app's lock.
    pub app: bool,
    /// A token's lock.
    pub token: bool,
    /// The recovery codes' lock.
    pub recovery_codes: bool,
}

impl Cleared {
    /// The cleared locks by name (`password`, `totp`, `token`, `recovery_codes`).
    pub fn names(&self) -> Vec<&'static str> {
        [
            (self.password, "password"),
            (self.app, "totp"),
            (self.token, "token"),
            (self.recovery_codes, "recovery_codes"),
        ]
        .into_iter()
        .filter_map(|(on, name)| on.then_some(name))
        .collect()
    }
}

/// An operator's unlock of a login: clears every lock the customer faces (password, app,
/// tokens, recovery codes; an e-mail code has none that outlives its login attempt) and the
/// failure counts, audited in one transaction; `Ok(None)` for an unknown login.
pub async fn unlock_login(
    state: &App,
    login: &sekisho_core::login::Login,
    actor: Actor,
    client: &ClientInfo,
) -> Result<Option<Cleared>, AppError> {
    let factors = state
        .store
        .factor_summaries(&[login.id])
        .await?
        .pop()
        .unwrap_or_default();
    let recovery = state.store.recovery_status(login.id).await?;
    let cleared = Cleared {
        password: login.is_locked(),
        app: factors.totp_locked,
        token: factors.tokens_locked > 0,
        recovery_codes: recovery.is_some_and(|r| r.locked_at.is_some()),
    };
    let mut parts = Vec::new();
    if cleared.password {
        parts.push(format!(
            "password (locked after {} failures)",
            login.failed_logins
        ));
    }
    for (on, what) in [
        (cleared.app, "authenticator app"),
        (cleared.token, "token"),
        (cleared.recovery_codes, "recovery codes"),
    ] {
        if on {
            parts.push(what.to_owned());
        }
    }
    let what = if parts.is_empty() {
        "unlock requested; login was not locked (failure count reset)".to_owned()
    } else {
        format!("unlocked: {}", parts.join(", "))
    };
    let ev = state.event(
        EventType::LoginUnlocked,
        Some(&login.login_id),
        actor,
        client,
        what,
    );
    Ok(state
        .store
        .unlock_login(&login.login_id, state.clock.now(), &ev)
        .await?
        .map(|_| cleared))
}
