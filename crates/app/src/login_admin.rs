//! The firm's use cases on a login, shared by the admin API and the operator console: create,
//! search with the flags an operator needs at a glance, read, change, erase credentials, unlock,
//! revoke every session or familiar browser.

use crate::auth;
use crate::error::AppError;
use crate::factor_guard::{self, Cleared};
use crate::staff::{named_login, StaffCaller};
use crate::state::App;
use sekisho_core::audit::{ClientInfo, EventType};
use sekisho_core::login::{Login, MfaRollout, SecondFactor};
use sekisho_core::password::PasswordPolicy;
use sekisho_core::validate::{display_name, EmailAddress, LoginId};
use sekisho_core::{Error, Lang, Timestamp};
use sekisho_store::{
    ErasedCredentials, FactorSummary, LoginPatch, LoginQuery, NewLogin, SetupLink, StoreError,
};

fn parse_lang(s: &str) -> Result<Lang, AppError> {
    Lang::parse(s)
        .ok_or_else(|| Error::InvalidRequest("lang must be \"ja\" or \"en\"".into()).into())
}

fn parse_factor(s: &str) -> Result<SecondFactor, AppError> {
    SecondFactor::parse(s).ok_or_else(|| {
        Error::InvalidRequest(
            "second_factor must be one of none, email, totp, token, passkey, any".into(),
        )
        .into()
    })
}

/// When the login's password expires under `policy`.
pub fn password_expires_at(login: &Login, policy: &PasswordPolicy) -> Option<Timestamp> {
    let days = policy.max_age_days?;
    login
        .password_changed_at
        .map(|c| c.plus_secs(i64::from(days) * 86_400))
}

/// A new login as an operator describes it; the words are checked here, so the API and the
/// console refuse the same things with the same messages.
#[derive(Debug, Clone, Default)]
pub struct NewLoginRequest {
    /// The login ID the customer types.
    pub login_id: String,
    /// Where notices go.
    pub email: String,
    /// The customer's name as shown.
    pub display_name: String,
    /// `ja` or `en`; Japanese when absent.
    pub lang: Option<String>,
    /// The second factor's name; none when absent.
    pub second_factor: Option<String>,
    /// Whether a second factor is required.
    pub mfa_required: Option<bool>,
    /// An initial password; temporary (change at first login) unless `temporary` is false.
    pub password: Option<String>,
    /// Whether the initial password must be changed at first login (default true).
    pub temporary: Option<bool>,
}

/// Creates a login (admin only), with its initial password if given.
pub async fn create_login(
    app: &App,
    caller: &StaffCaller,
    client: &ClientInfo,
    req: NewLoginRequest,
) -> Result<Login, AppError> {
    caller.require_admin()?;
    let login_id = LoginId::parse(&req.login_id)?;
    let email = EmailAddress::parse(&req.email)?;
    let name = display_name(&req.display_name)?;
    let lang = req
        .lang
        .as_deref()
        .map(parse_lang)
        .transpose()?
        .unwrap_or_default();
    let factor = req
        .second_factor
        .as_deref()
        .map(parse_factor)
        .transpose()?
        .unwrap_or_default();
    let now = app.clock.now();
    let new = NewLogin {
        login_id: login_id.as_str().to_owned(),
        display_name: name,
        email: email.as_str().to_owned(),
        lang,
        second_factor: factor,
        mfa_required: req.mfa_required.unwrap_or(false),
        notify_login: Some(app.settings.notify.login_default),
        now,
    };
    // Check the password before anything is written, so a refused password creates nothing.
    let probe = Login {
        id: 0,
        login_id: new.login_id.clone(),
        display_name: new.display_name.clone(),
        email: new.email.clone(),
        code_email: None,
        notify_login: new.notify_login,
        lang,
        second_factor: factor,
        mfa_required: new.mfa_required,
        disabled: false,
        failed_logins: 0,
        locked_at: None,
        password_hash: None,
        password_changed_at: None,
        password_temporary: false,
        created_at: now,
        updated_at: now,
        last_login_at: None,
    };
    let hash = match &req.password {
        Some(p) => Some(auth::new_password_hash(app, &probe, p).await?),
        None => None,
    };
    let ev = app.event(
        EventType::LoginCreated,
        Some(login_id.as_str()),
        caller.actor.clone(),
        client,
        format!(
            "second_factor={}, mfa_required={}",
            factor.as_str(),
            new.mfa_required
        ),
    );
    let mut login = match app.store.create_login(&new, &ev).await {
        Ok(l) => l,
        Err(StoreError::Conflict) => return Err(Error::LoginExists.into()),
        Err(e) => return Err(e.into()),
    };
    if let Some(hash) = hash {
        let temporary = req.temporary.unwrap_or(true);
        let ev = app.event(
            EventType::PasswordSet,
            Some(login_id.as_str()),
            caller.actor.clone(),
            client,
            if temporary {
                "initial temporary password set"
            } else {
                "initial password set"
            },
        );
        app.store
            .set_password(login.id, &hash, temporary, now, None, &ev)
            .await?;
        login = named_login(app, login_id.as_str()).await?;
    }
    Ok(login)
}

/// What an operator sees at a glance on a login: factors, locks, password, setup links.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoginFlags {
    /// No second factor the login can use (CQG: "Two-step authentication key has not been
    /// registered").
    pub second_factor_not_registered: bool,
    /// The password is locked.
    pub locked_password: bool,
    /// The authenticator app is locked.
    pub locked_second_factor: bool,
    /// A token is locked.
    pub locked_token: bool,
    /// The password is past its age.
    pub password_expired: bool,
    /// The login has no password.
    pub password_erased: bool,
    /// A passkey's counter went backwards: it may have been cloned, and stays suspended until
    /// an operator looks at it and removes it.
    pub passkey_counter_regressed: bool,
    /// Nothing registered while the MFA rollout's deadline is near.
    pub mfa_deadline_near: bool,
    /// The newest setup link waits to be used.
    pub setup_link_pending: bool,
    /// The newest setup link ran out unused.
    pub setup_link_expired: bool,
    /// When the newest setup link (neither used nor replaced) runs out.
    pub setup_link_expires_at: Option<Timestamp>,
}

impl LoginFlags {
    /// Any lock the customer faces.
    pub fn locked(&self) -> bool {
        self.locked_password || self.locked_second_factor || self.locked_token
    }

    fn of(
        login: &Login,
        f: &FactorSummary,
        link: Option<&SetupLink>,
        policy: &PasswordPolicy,
        rollout: &MfaRollout,
        now: Timestamp,
    ) -> LoginFlags {
        let registered = f.totp_active
            || f.tokens_registered > 0
            || f.passkeys > f.passkeys_regressed
            || login.second_factor == SecondFactor::Email
            || login.code_email.is_some();
        // The newest setup link decides: one waiting to be used, or one that ran out unused
        // (a used or replaced link raises neither).
        let unused = link.filter(|l| l.used_at.is_none() && l.revoked_at.is_none());
        LoginFlags {
            second_factor_not_registered: !registered,
            locked_password: login.is_locked(),
            locked_second_factor: f.totp_locked,
            locked_token: f.tokens_locked > 0,
            password_expired: password_expires_at(login, policy).is_some_and(|e| now >= e),
            password_erased: login.password_hash.is_none(),
            passkey_counter_regressed: f.passkeys_regressed > 0,
            mfa_deadline_near: !registered && rollout.deadline_near(now),
            setup_link_pending: link.is_some_and(|l| l.is_open(now)),
            setup_link_expired: unused.is_some_and(|l| now >= l.expires_at),
            setup_link_expires_at: unused.map(|l| l.expires_at),
        }
    }
}

/// A login with its flags.
#[derive(Debug, Clone)]
pub struct LoginOverview {
    /// The login.
    pub login: Login,
    /// Its flags when read.
    pub flags: LoginFlags,
}

/// The flags of these logins, in their order.
async fn flags_of(app: &App, logins: &[Login]) -> Result<Vec<LoginFlags>, AppError> {
    let now = app.clock.now();
    let policy = &app.settings.password_policy;
    let pks: Vec<i64> = logins.iter().map(|l| l.id).collect();
    let summaries = app.store.factor_summaries(&pks).await?;
    let links = app.store.latest_setup_links(&pks).await?;
    Ok(logins
        .iter()
        .map(|l| {
            let f = summaries
                .iter()
                .find(|s| s.login_pk == l.id)
                .cloned()
                .unwrap_or_default();
            let link = links.iter().find(|s| s.login_pk == l.id);
            LoginFlags::of(l, &f, link, policy, &app.settings.mfa, now)
        })
        .collect())
}

/// A search of the logins.
#[derive(Debug, Clone, Default)]
pub struct LoginSearch {
    /// Words in the login ID, name or e-mail (the first 100 characters count).
    pub q: Option<String>,
    /// Only locked (or only unlocked) logins.
    pub locked: Option<bool>,
    /// The login ID the page starts after.
    pub after: Option<String>,
    /// Rows per page (1 to 500, 50 when absent).
    pub limit: Option<u32>,
}

/// One page of logins and where the next starts.
#[derive(Debug, Clone)]
pub struct LoginPage {
    /// The logins, each with its flags.
    pub rows: Vec<LoginOverview>,
    /// The `after` of the next page, when this one is full.
    pub next_after: Option<String>,
}

/// One page of the logins search, each with its flags, and where the next page starts.
pub async fn search(app: &App, p: LoginSearch) -> Result<LoginPage, AppError> {
    let limit = p.limit.unwrap_or(50).clamp(1, 500);
    let logins = app
        .store
        .list_logins(&LoginQuery {
            q: p.q.map(|q| q.chars().take(100).collect()),
            locked: p.locked,
            after: p.after,
            limit,
        })
        .await?;
    let next_after = (logins.len() == limit as usize)
        .then(|| logins.last().map(|l| l.login_id.clone()))
        .flatten();
    let flags = flags_of(app, &logins).await?;
    let rows = logins
        .into_iter()
        .zip(flags)
        .map(|(login, flags)| LoginOverview { login, flags })
        .collect();
    Ok(LoginPage { rows, next_after })
}

/// A login and its flags (the API's `GET /logins/{login_id}`, the console's login page).
pub async fn read_login(app: &App, login_id: &str) -> Result<LoginOverview, AppError> {
    let login = named_login(app, login_id).await?;
    let flags = flags_of(app, std::slice::from_ref(&login))
        .await?
        .pop()
        .unwrap_or_default();
    Ok(LoginOverview { login, flags })
}

/// What to erase; at least one.
#[derive(Debug, Clone, Copy)]
pub struct EraseRequest {
    /// The password.
    pub password: bool,
    /// Every second factor.
    pub second_factor: bool,
}

/// What erasing removed from a login.
#[derive(Debug, Clone)]
pub struct Erased {
    /// The login's ID.
    pub login_id: String,
    /// What went.
    pub removed: ErasedCredentials,
}

/// Erases the password and/or the second factors of a login (admin only; the Change
/// Credentials dialog's "erase credentials"): the customer then needs a new password or a new
/// factor.
pub async fn erase(
    app: &App,
    caller: &StaffCaller,
    client: &ClientInfo,
    login_id: &str,
    req: EraseRequest,
) -> Result<Erased, AppError> {
    caller.require_admin()?;
    if !req.password && !req.second_factor {
        return Err(
            Error::InvalidRequest("choose password and/or second_factor to erase".into()).into(),
        );
    }
    let login = named_login(app, login_id).await?;
    let what: Vec<&str> = [
        (req.password, "password"),
        (req.second_factor, "second factor"),
    ]
    .iter()
    .filter(|(on, _)| *on)
    .map(|(_, w)| *w)
    .collect();
    let ev = app.event(
        EventType::CredentialsErased,
        Some(&login.login_id),
        caller.actor.clone(),
        client,
        format!("erased: {}", what.join(", ")),
    );
    let removed = app
        .store
        .erase_credentials(
            login.id,
            req.password,
            req.second_factor,
            app.clock.now(),
            &ev,
        )
        .await?;
    Ok(Erased {
        login_id: login.login_id,
        removed,
    })
}

/// The changes an operator makes to a login; absent fields stay.
#[derive(Debug, Clone, Default)]
pub struct LoginChange {
    /// The customer's name as shown.
    pub display_name: Option<String>,
    /// Where notices go.
    pub email: Option<String>,
    /// `ja` or `en`.
    pub lang: Option<String>,
    /// The second factor's name.
    pub second_factor: Option<String>,
    /// Whether a second factor is required.
    pub mfa_required: Option<bool>,
    /// Disabling revokes the login's sessions.
    pub disabled: Option<bool>,
    /// Whether the customer is told of each login.
    pub notify_login: Option<bool>,
}

/// Changes a login (admin only): the authentication system (`second_factor`, `mfa_required`)
/// and the rest; answers the login after the change.
pub async fn patch_login(
    app: &App,
    caller: &StaffCaller,
    client: &ClientInfo,
    login_id: &str,
    change: LoginChange,
) -> Result<Login, AppError> {
    caller.require_admin()?;
    let login = named_login(app, login_id).await?;
    let patch = LoginPatch {
        display_name: change
            .display_name
            .as_deref()
            .map(display_name)
            .transpose()?,
        email: change
            .email
            .as_deref()
            .map(|e| EmailAddress::parse(e).map(|e| e.as_str().to_owned()))
            .transpose()?,
        lang: change.lang.as_deref().map(parse_lang).transpose()?,
        second_factor: change
            .second_factor
            .as_deref()
            .map(parse_factor)
            .transpose()?,
        mfa_required: change.mfa_required,
        disabled: change.disabled,
        notify_login: change.notify_login,
    };
    let mut changes = Vec::new();
    if let Some(v) = &patch.display_name {
        changes.push(format!("display_name={v}"));
    }
    if let Some(v) = &patch.email {
        changes.push(format!("email={v}"));
    }
    if let Some(v) = patch.lang {
        changes.push(format!("lang={}", v.as_str()));
    }
    if let Some(v) = patch.second_factor {
        changes.push(format!("second_factor={}", v.as_str()));
    }
    if let Some(v) = patch.mfa_required {
        changes.push(format!("mfa_required={v}"));
    }
    if let Some(v) = patch.notify_login {
        changes.push(format!("notify_login={v}"));
    }
    if let Some(v) = patch.disabled {
        changes.push(format!(
            "disabled={v}{}",
            if v { " (sessions revoked)" } else { "" }
        ));
    }
    if changes.is_empty() {
        return Ok(login);
    }
    let ev = app.event(
        EventType::LoginUpdated,
        Some(&login.login_id),
        caller.actor.clone(),
        client,
        changes.join(", "),
    );
    Ok(app
        .store
        .update_login(&login.login_id, &patch, app.clock.now(), &ev)
        .await?
        .ok_or(Error::LoginNotFound)?)
}

/// What an operator's unlock of a login did.
#[derive(Debug, Clone)]
pub struct Unlocked {
    /// The login's ID.
    pub login_id: String,
    /// The locks cleared (none when the login was not locked).
    pub cleared: Cleared,
}

impl Unlocked {
    /// Whether any lock was cleared.
    pub fn was_locked(&self) -> bool {
        self.cleared != Cleared::default()
    }
}

/// Unlocks every lock of a login and resets its failure counts (support may); the answer
/// names the locks cleared.
pub async fn unlock_login(
    app: &App,
    caller: &StaffCaller,
    client: &ClientInfo,
    login_id: &str,
) -> Result<Unlocked, AppError> {
    let login = named_login(app, login_id).await?;
    let cleared = factor_guard::unlock_login(app, &login, caller.actor.clone(), client)
        .await?
        .ok_or(Error::LoginNotFound)?;
    Ok(Unlocked {
        login_id: login.login_id,
        cleared,
    })
}

/// Revokes every session of a login (support may); answers how many.
pub async fn revoke_all_sessions(
    app: &App,
    caller: &StaffCaller,
    client: &ClientInfo,
    login_id: &str,
) -> Result<u64, AppError> {
    let login = named_login(app, login_id).await?;
    let ev = app.event(
        EventType::SessionRevoked,
        Some(&login.login_id),
        caller.actor.clone(),
        client,
        "all sessions revoked by operator",
    );
    Ok(app
        .store
        .revoke_login_sessions(login.id, app.clock.now(), &ev)
        .await?)
}

/// Revokes a login's consent to a client (support may): the client asks again and loses what
/// it holds ([`crate::oidc::consent::revoke`]).
pub async fn revoke_consent(
    app: &App,
    caller: &StaffCaller,
    client: &ClientInfo,
    login_id: &str,
    client_id: &str,
) -> Result<(), AppError> {
    let login = named_login(app, login_id).await?;
    crate::oidc::consent::revoke(app, &login, client_id, caller.actor.clone(), client).await
}

/// Revokes every familiar browser of a login (support may); answers how many.
pub async fn revoke_all_devices(
    app: &App,
    caller: &StaffCaller,
    client: &ClientInfo,
    login_id: &str,
) -> Result<u64, AppError> {
    let login = named_login(app, login_id).await?;
    let ev = app.event(
        EventType::DeviceRevoked,
        Some(&login.login_id),
        caller.actor.clone(),
        client,
        "all familiar browsers revoked by operator",
    );
    Ok(app
        .store
        .revoke_devices(login.id, app.clock.now(), &ev)
        .await?)
}
