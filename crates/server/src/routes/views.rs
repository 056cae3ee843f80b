//! JSON shapes shared by several endpoints.

use sekisho_core::login::Login;
use sekisho_core::password::PasswordPolicy;
use sekisho_core::session::{Session, SessionPolicy};
use sekisho_core::Timestamp;
use sekisho_store::{ApiToken, StoredPasskey, TrustedDevice};
use serde_json::{json, Value};

fn t(ts: Option<Timestamp>) -> Value {
    ts.map(|t| Value::String(t.to_rfc3339()))
        .unwrap_or(Value::Null)
}

/// When the login's password expires under `policy`.
pub fn password_expires_at(login: &Login, policy: &PasswordPolicy) -> Option<Timestamp> {
    let days = policy.max_age_days?;
    login
        .password_changed_at
        .map(|c| c.plus_secs(i64::from(days) * 86_400))
}

/// A login as the admin API shows it, with the flags an operator needs at a glance.
pub fn login(login: &Login, policy: &PasswordPolicy, now: Timestamp) -> Value {
    let expires = password_expires_at(login, policy);
    json!({
        "login_id": login.login_id,
        "display_name": login.display_name,
        "email": login.email,
        "lang": login.lang.as_str(),
        "second_factor": login.second_factor.as_str(),
        "mfa_required": login.mfa_required,
        "notify_login": login.notify_login,
        "code_email": login.code_email,
        "disabled": login.disabled,
        "locked": login.is_locked(),
        "locked_at": t(login.locked_at),
        "failed_logins": login.failed_logins,
        "password_set": login.password_hash.is_some(),
        "password_temporary": login.password_temporary,
        "password_changed_at": t(login.password_changed_at),
        "password_expires_at": t(expires),
        "password_expired": expires.is_some_and(|e| now >= e),
        "created_at": login.created_at.to_rfc3339(),
        "updated_at": login.updated_at.to_rfc3339(),
        "last_login_at": t(login.last_login_at),
    })
}

/// A login's flags at a glance (the admin logins list): second factor not registered (CQG:
/// "Two-step authentication key has not been registered"), locks (password, app, token),
/// password expired or erased, a passkey's counter gone backwards, MFA deadline near.
pub fn login_flags(
    login: &Login,
    f: &sekisho_store::FactorSummary,
    link: Option<&sekisho_store::SetupLink>,
    policy: &PasswordPolicy,
    rollout: &sekisho_core::login::MfaRollout,
    now: Timestamp,
) -> Value {
    let registered = f.totp_active
        || f.tokens_registered > 0
        || f.passkeys > f.passkeys_regressed
        || login.second_factor == sekisho_core::login::SecondFactor::Email
        || login.code_email.is_some();
    let expired = password_expires_at(login, policy).is_some_and(|e| now >= e);
    let locked_password = login.is_locked();
    let locked_app = f.totp_locked;
    let locked_token = f.tokens_locked > 0;
    json!({
        "second_factor_not_registered": !registered,
        "locked": locked_password || locked_app || locked_token,
        "locked_password": locked_password,
        "locked_second_factor": locked_app,
        "locked_token": locked_token,
        "password_expired": expired,
        "password_erased": login.password_hash.is_none(),
        // A passkey whose counter went backwards may have been cloned: suspended until an
        // operator looks at it and removes it.
        "passkey_counter_regressed": f.passkeys_regressed > 0,
        "mfa_deadline_near": !registered && rollout.deadline_near(now),
        // The newest setup link decides: one waiting to be used, or one that ran out unused
        // (a used or replaced link raises neither).
        "setup_link_pending": link.is_some_and(|l| l.is_open(now)),
        "setup_link_expired": link.is_some_and(|l| {
            l.used_at.is_none() && l.revoked_at.is_none() && now >= l.expires_at
        }),
        "setup_link_expires_at": link
            .filter(|l| l.used_at.is_none() && l.revoked_at.is_none())
            .map(|l| l.expires_at.to_rfc3339()),
    })
}

/// A session without its token.
pub fn session(s: &Session, policy: &SessionPolicy) -> Value {
    json!({
        "session_id": s.id,
        "purpose": s.purpose,
        "methods": s.methods,
        "created_at": s.created_at.to_rfc3339(),
        "last_seen_at": s.last_seen_at.to_rfc3339(),
        "idle_expires_at": s.idle_expires_at(policy).to_rfc3339(),
        "expires_at": s.expires_at.to_rfc3339(),
        "client_ip": s.client_ip,
        "user_agent": s.user_agent,
    })
}

/// An API token without its secret.
pub fn api_token(t: &ApiToken) -> Value {
    json!({
        "id": t.id,
        "name": t.name,
        "scope": t.scope,
        "created_at": t.created_at.to_rfc3339(),
        "revoked_at": t.revoked_at.map(|r| r.to_rfc3339()),
    })
}

/// A device as the customer and operators see it.
pub fn device(d: &TrustedDevice) -> Value {
    json!({
        "id": d.uid,
        "label": d.label,
        "method": d.method,
        "created_at": d.created_at.to_rfc3339(),
        "last_used_at": d.last_used_at.to_rfc3339(),
        "expires_at": d.expires_at.to_rfc3339(),
    })
}

/// The passkey as shown to its customer (and, with `operator`, the counter details).
pub fn passkey(p: &StoredPasskey, operator: bool) -> Value {
    let mut v = serde_json::json!({
        "id": p.id,
        "name": p.name,
        "created_at": p.created_at.to_rfc3339(),
        "last_used_at": p.last_used_at.map(|t| t.to_rfc3339()),
        "backed_up": p.backup_state,
        "suspended": p.counter_regressed_at.is_some(),
    });
    if operator {
        v["credential_id"] = p.credential_id.clone().into();
        v["sign_count"] = p.sign_count.into();
        v["backup_eligible"] = p.backup_eligible.into();
        v["backup_state"] = p.backup_state.into();
        v["counter_regressed_at"] = p.counter_regressed_at.map(|t| t.to_rfc3339()).into();
    }
    v
}
