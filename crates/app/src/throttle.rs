//! The one throttle every door that checks a secret calls (issue 16 item 2): the JSON login
//! and its second step, the passwordless begin, the operators' session, the hosted pages'
//! forms, and (failures only) code validation. Limits per client address and per login ID are
//! token buckets (`sekisho_core::throttle::gcra`) kept in the database, one atomic statement
//! per check, so every instance sharing the database shares them; and a login ID waits longer
//! after each consecutive wrong password (capped), answered like a spent limit:
//! `too_many_attempts` with `Retry-After`.

use crate::error::{AppError, ErrorContext};
use crate::state::App;
use sekisho_core::audit::ClientInfo;
use sekisho_core::throttle::{retry_after_secs, Rate};
use sekisho_core::validate::LoginId;
use sekisho_core::Error;
use sekisho_store::ThrottleSpend;

/// Whose attempt it is, besides the client address.
#[derive(Debug, Clone, Copy)]
pub enum Subject<'a> {
    /// No name given (a passwordless begin, a page without a login ID).
    Anyone,
    /// A customer's login ID as typed.
    Login(&'a str),
    /// An operator's name as typed.
    Operator(&'a str),
}

/// A day: a failure count outlives its last wait this long before the purge forgets it.
const RETAIN_FAILURES_MS: i64 = 86_400_000;

/// The bucket of a login ID as typed: its canonical form when it parses (so `Tanaka` and
/// `tanaka` share one), else the raw text, bounded either way.
pub fn login_bucket(login_id: &str) -> String {
    let id = match LoginId::parse(login_id) {
        Ok(id) => id.as_str().to_owned(),
        Err(_) => login_id.trim().chars().take(64).collect(),
    };
    format!("login:{id}")
}

fn address_bucket(client: &ClientInfo) -> String {
    format!("addr:{}", client.ip.as_deref().unwrap_or("-"))
}

/// The refusal for a wait of `ms` milliseconds.
fn refused(ms: i64) -> AppError {
    AppError::with(
        Error::TooManyAttempts,
        ErrorContext::RetryAfter(retry_after_secs(ms)),
    )
}

async fn take(app: &App, bucket: &str, rate: Rate, now_ms: i64) -> Result<(), AppError> {
    let answer = app
        .store
        .throttle(bucket, now_ms, rate.interval_ms(), rate.tolerance_ms())
        .await?;
    if answer.allowed {
        Ok(())
    } else {
        app.metrics.throttled();
        Err(refused(answer.retry_after_ms))
    }
}

/// Counts one attempt at a door that checks a secret: refused (`too_many_attempts` with the
/// seconds to wait) when the client address or the named login ID / operator spent its
/// bucket, or the login ID waits after consecutive wrong passwords. The address is checked
/// first, so a refused address costs the login ID nothing.
pub async fn attempt(app: &App, client: &ClientInfo, who: Subject<'_>) -> Result<(), AppError> {
    let t = &app.settings.throttle;
    let now_ms = app.clock.now().0.saturating_mul(1000);
    purge_now_and_then(app, now_ms).await;
    take(app, &address_bucket(client), t.per_address(), now_ms).await?;
    match who {
        Subject::Anyone => Ok(()),
        Subject::Login(id) => take(app, &login_bucket(id), t.per_login(), now_ms).await,
        Subject::Operator(name) => {
            let name: String = name.trim().chars().take(64).collect();
            take(app, &format!("operator:{name}"), t.per_login(), now_ms).await
        }
    }
}

/// The login ID's part of [`attempt`] alone, for a door that checked the address before it
/// knew the login (the second step finds it from the challenge).
pub async fn attempt_login_only(app: &App, login_id: &str) -> Result<(), AppError> {
    let t = &app.settings.throttle;
    let now_ms = app.clock.now().0.saturating_mul(1000);
    take(app, &login_bucket(login_id), t.per_login(), now_ms).await
}

/// The operator name's part of [`attempt`] alone, for the console's sign-in form (whose address
/// the form check already counted).
pub async fn attempt_operator_only(app: &App, name: &str) -> Result<(), AppError> {
    let t = &app.settings.throttle;
    let now_ms = app.clock.now().0.saturating_mul(1000);
    let name: String = name.trim().chars().take(64).collect();
    take(app, &format!("operator:{name}"), t.per_login(), now_ms).await
}

/// After a wrong password for `login_id` (an unknown ID too, so the wait tells no one which
/// IDs exist): counts the consecutive failure and holds the login ID for the growing delay.
pub async fn password_failed(app: &App, login_id: &str) -> Result<(), AppError> {
    let bucket = login_bucket(login_id);
    let failures = app.store.throttle_fail(&bucket).await?;
    let delay = app.settings.throttle.backoff().delay_secs(failures);
    if delay > 0 {
        let until = app.clock.now().plus_secs(delay).0.saturating_mul(1000);
        app.store.throttle_hold(&bucket, until).await?;
    }
    Ok(())
}

/// After the right password for `login_id`: its consecutive failures and wait are forgiven.
pub async fn password_accepted(app: &App, login_id: &str) -> Result<(), AppError> {
    Ok(app.store.throttle_forgive(&login_bucket(login_id)).await?)
}

/// The bucket of wrong codes at `/api/v1/validate` (the hot path reads its arrival time with
/// the login: [`sekisho_store::CodeTarget::validate_tat_ms`]).
pub fn validate_bucket(login_id: &str) -> String {
    format!("validate:{login_id}")
}

/// Before a code is checked at `/api/v1/validate`: refused while the login ID's bucket of
/// wrong codes is spent. Only failures take from it ([`validate_failed`]); an accepted code
/// costs nothing more than the join in the one read of the login (`tat_ms`: the bucket's
/// arrival time from that read).
pub fn validate_may_try(app: &App, tat_ms: Option<i64>) -> Result<(), AppError> {
    let rate = app.settings.throttle.validate_failures();
    let now_ms = app.clock.now().0.saturating_mul(1000);
    if let Some(tat) = tat_ms {
        let wait = tat - rate.tolerance_ms() - now_ms;
        if wait > 0 {
            app.metrics.throttled();
            return Err(refused(wait));
        }
    }
    Ok(())
}

/// After a wrong code at `/api/v1/validate`: takes one from the login ID's bucket of failures.
pub async fn validate_failed(app: &App, login_id: &str) -> Result<(), AppError> {
    let rate = app.settings.throttle.validate_failures();
    let now_ms = app.clock.now().0.saturating_mul(1000);
    app.store
        .throttle(
            &validate_bucket(login_id),
            now_ms,
            rate.interval_ms(),
            rate.tolerance_ms(),
        )
        .await?;
    Ok(())
}

/// About one check in 1024 also deletes the buckets nobody needs any more (bounded work: the
/// table holds one row per recent address and login ID).
async fn purge_now_and_then(app: &App, now_ms: i64) {
    let mut b = [0u8; 2];
    app.rng.fill(&mut b);
    if u16::from_le_bytes(b) % 1024 == 0 {
        if let Err(e) = app.store.purge_throttle(now_ms, RETAIN_FAILURES_MS).await {
            tracing::warn!(error = %e, "cannot purge the throttle's old buckets");
        }
    }
}

fn oidc_address_bucket(client: &ClientInfo) -> String {
    format!("oidc-addr:{}", client.ip.as_deref().unwrap_or("-"))
}

/// Before a client authenticates at PAR, the token endpoint, introspection or revocation (issue
/// 15 item 11): refused (`too_many_attempts` with the seconds to wait) while its address has
/// spent its bucket of failed client authentications (`oidc.address_failures_per_minute`,
/// `oidc.address_failures_burst`). A read: only failures take from the bucket
/// ([`oidc_auth_failed`]), so a relying party's back end, which sends the exchanges of all its
/// customers from one address, is never held back by its own successes, while guessing a
/// client's credentials stays slow, also with the right ones once the bucket is spent.
pub async fn oidc_address_may_try(app: &App, client: &ClientInfo) -> Result<(), AppError> {
    let now_ms = app.clock.now().0.saturating_mul(1000);
    purge_now_and_then(app, now_ms).await;
    let rate = app.settings.oidc.address_failures();
    let answer = app
        .store
        .throttle_peek(&oidc_address_bucket(client), now_ms, rate.tolerance_ms())
        .await?;
    if answer.allowed {
        Ok(())
    } else {
        app.metrics.throttled();
        Err(refused(answer.retry_after_ms))
    }
}

/// After a failed client authentication at any of those doors: takes one from the address's
/// bucket of failures.
pub async fn oidc_auth_failed(app: &App, client: &ClientInfo) -> Result<(), AppError> {
    let now_ms = app.clock.now().0.saturating_mul(1000);
    let rate = app.settings.oidc.address_failures();
    app.store
        .throttle(
            &oidc_address_bucket(client),
            now_ms,
            rate.interval_ms(),
            rate.tolerance_ms(),
        )
        .await?;
    Ok(())
}

/// Counts one request of an authenticated client at PAR or the token endpoint
/// (`oidc.client_rate_per_minute`, `oidc.client_rate_burst`), counted only once it
/// authenticated, so that no one can spend another client's bucket by naming it.
pub async fn oidc_client(app: &App, client_id: &str) -> Result<(), AppError> {
    let s = oidc_client_spend(app, client_id);
    take(app, &s.bucket, app.settings.oidc.client_rate(), s.now_ms).await
}

/// The count [`oidc_client`] makes, for a write that makes it in its own transaction (the
/// token endpoint's code exchange); a spent bucket is then answered with [`oidc_client_spent`].
pub fn oidc_client_spend(app: &App, client_id: &str) -> ThrottleSpend {
    let rate = app.settings.oidc.client_rate();
    ThrottleSpend {
        bucket: format!("oidc-client:{client_id}"),
        now_ms: app.clock.now().0.saturating_mul(1000),
        interval_ms: rate.interval_ms(),
        tolerance_ms: rate.tolerance_ms(),
    }
}

/// The refusal of a request whose client's bucket was spent (see [`oidc_client_spend`]).
pub fn oidc_client_spent(app: &App, retry_after_ms: i64) -> AppError {
    app.metrics.throttled();
    refused(retry_after_ms)
}
