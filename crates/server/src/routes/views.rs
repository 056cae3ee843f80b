//! JSON shapes shared by several endpoints.

use sekisho_app::login_admin::{LoginFlags, LoginOverview};
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

pub use sekisho_app::login_admin::password_expires_at;

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

/// A login with its flags, as the admin API's search and `GET /logins/{login_id}` show it.
pub fn login_overview(o: &LoginOverview, policy: &PasswordPolicy, now: Timestamp) -> Value {
    let mut v = login(&o.login, policy, now);
    v["flags"] = login_flags(&o.flags);
    v
}

/// A login's flags at a glance (the admin logins list): second factor not registered (CQG:
/// "Two-step authentication key has not been registered"), locks (password, app, token),
/// password expired or erased, a passkey's counter gone backwards, MFA deadline near, setup
/// links.
pub fn login_flags(f: &LoginFlags) -> Value {
    json!({
        "second_factor_not_registered": f.second_factor_not_registered,
        "locked": f.locked(),
        "locked_password": f.locked_password,
        "locked_second_factor": f.locked_second_factor,
        "locked_token": f.locked_token,
        "password_expired": f.password_expired,
        "password_erased": f.password_erased,
        "passkey_counter_regressed": f.passkey_counter_regressed,
        "mfa_deadline_near": f.mfa_deadline_near,
        "setup_link_pending": f.setup_link_pending,
        "setup_link_expired": f.setup_link_expired,
        "setup_link_expires_at": f.setup_link_expires_at.map(|t| t.to_rfc3339()),
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
