//! Recovery codes (issue 8): ten single-use codes, shown once at generation and kept only as
//! keyed hashes; usable instead of the second factor when the phone is lost. Each use is
//! audited and notified by mail with the count left; wrong codes count toward a lock of their
//! own (`recovery.lockout_threshold` in a row), which an operator's unlock clears, as does a new set.

use crate::error::AppError;
use crate::factor_guard::{self, Counter, Refusal};
use crate::mail::notices::Notice;
use crate::notify;
use crate::state::App;
use sekisho_core::audit::{Actor, ClientInfo, EventType};
use sekisho_core::lockout::Verdict;
use sekisho_core::login::Login;
use sekisho_core::recovery;
use sekisho_core::{Error, Timestamp};

/// The method name of recovery codes in challenges and sessions.
pub const METHOD: &str = "recovery_code";

/// Generates a new set for the login, replacing the old one in one transaction; returns the
/// codes (to be shown once) and the time of the set.
pub async fn generate(
    state: &App,
    client: &ClientInfo,
    login: &Login,
) -> Result<(Vec<String>, Timestamp), AppError> {
    let now = state.clock.now();
    let codes = recovery::generate_set(state.rng.as_ref());
    let context = recovery::hash_context(login.id);
    let hashes: Vec<String> = codes
        .iter()
        .map(|c| {
            let n = recovery::normalize(c).unwrap_or_default();
            state.secrets.code_hash(&context, &n)
        })
        .collect();
    let had = state.store.recovery_status(login.id).await?.is_some();
    let ev = state.event(
        EventType::RecoveryCodesGenerated,
        Some(&login.login_id),
        Actor::SelfService,
        client,
        if had {
            format!(
                "{} recovery codes generated; the earlier set no longer works",
                codes.len()
            )
        } else {
            format!("{} recovery codes generated", codes.len())
        },
    );
    state
        .store
        .replace_recovery_codes(login.id, &hashes, now, &ev)
        .await?;
    notify::send(state, login, &Notice::FactorAdded(METHOD)).await;
    Ok((codes, now))
}

/// The login's recovery codes: how many are left and whether wrong codes locked them (`None`:
/// never generated). For operators.
pub async fn status(
    state: &App,
    login_pk: i64,
) -> Result<Option<sekisho_store::RecoveryStatus>, AppError> {
    Ok(state.store.recovery_status(login_pk).await?)
}

/// Whether the login has an unused recovery code (and the set is not locked).
pub async fn usable(state: &App, login_pk: i64) -> Result<bool, AppError> {
    Ok(state
        .store
        .recovery_status(login_pk)
        .await?
        .is_some_and(|s| s.remaining > 0 && s.locked_at.is_none()))
}

/// Checks and uses up a recovery code typed at login; returns the count left. A wrong one is
/// audited and counts toward the lock.
pub async fn check(
    state: &App,
    client: &ClientInfo,
    login: &Login,
    typed: &str,
) -> Result<i64, AppError> {
    let now = state.clock.now();
    let status = state.store.recovery_status(login.id).await?;
    let refused = |e: Error, why: &str| {
        state
            .event(
                EventType::SecondFactorFailed,
                Some(&login.login_id),
                Actor::SelfService,
                client,
                format!("recovery code: {why}"),
            )
            .with_error(e.code())
    };
    let refusal = |error: Error, reason: &'static str| Refusal {
        counter: Counter::RecoveryCodes(login.id),
        threshold: state.settings.recovery.lockout_threshold,
        subject: "recovery codes",
        login_id: Some(&login.login_id),
        actor: Actor::SelfService,
        client,
        event_type: EventType::SecondFactorFailed,
        reason,
        error,
    };
    let Some(status) = status else {
        let e = Error::RecoveryCodeInvalid;
        state
            .store
            .append_audit(&refused(e.clone(), "the login has no recovery codes"))
            .await?;
        return Err(e.into());
    };
    if status.locked_at.is_some() {
        factor_guard::settle(
            state,
            Verdict::Locked,
            refusal(
                Error::SecondFactorLocked,
                "recovery code: refused: locked by wrong codes",
            ),
        )
        .await?;
        return Err(Error::SecondFactorLocked.into());
    }
    if let Some(code) = recovery::normalize(typed) {
        let hash = state
            .secrets
            .code_hash(&recovery::hash_context(login.id), &code);
        let ev = state.event(
            EventType::RecoveryCodeUsed,
            Some(&login.login_id),
            Actor::SelfService,
            client,
            "recovery code used as the second factor",
        );
        if let Some(remaining) = state
            .store
            .consume_recovery_code(login.id, &hash, now, &ev)
            .await?
        {
            notify::send(state, login, &Notice::RecoveryCodeUsed { remaining }).await;
            return Ok(remaining);
        }
    }
    // A used code counts like a wrong one, by rule (issue 14): unlike a TOTP step, which is
    // spent within seconds, a used recovery code can only come from a copy of the sheet.
    let settled = factor_guard::settle(
        state,
        Verdict::Wrong,
        refusal(
            Error::RecoveryCodeInvalid,
            "recovery code: wrong or already used code",
        ),
    )
    .await?;
    Err(match settled.answer {
        Verdict::Locked => Error::SecondFactorLocked,
        _ => Error::RecoveryCodeInvalid,
    }
    .into())
}
