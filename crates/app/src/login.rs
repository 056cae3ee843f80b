//! The login: the password step, the second step and its challenges, and the sessions they
//! open. Shared by the JSON API and the hosted pages (and, next, the OpenID Connect door).

use crate::auth::password_failure;
use crate::devices::{self, IssuedDevice};
use crate::email_code;
use crate::error::{AppError, ErrorContext};
use crate::flow::{ChallengeOffer, LoginStep, PasswordChangeOffer, TokenRegistrationOffer};
use crate::hwtoken;
use crate::mail::notices::Notice;
use crate::notify;
use crate::passkey_login;
use crate::recovery;
use crate::state::App;
use crate::totp;
use sekisho_core::audit::{Actor, ClientInfo, EventType};
use sekisho_core::login::{AfterPassword, Login, SecondFactor, SecondStep};
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
    /// The browser remembered by this login (`remember_device`), if any.
    pub device: Option<IssuedDevice>,
    /// The MFA deadline to remind a customer without a second factor of (`mfa.mandatory_from`).
    pub mfa_reminder: Option<Timestamp>,
}

/// What a client sends with its password besides the login ID.
#[derive(Default, Clone, Copy)]
pub struct LoginExtras<'a> {
    /// A one-time code sent together with the password (desktop clients).
    pub otp: Option<&'a str>,
    /// The token of a familiar browser (cookie or app), which may skip the second factor.
    pub device_token: Option<&'a str>,
    /// A recovery code sent together with the password in place of the second factor.
    pub recovery_code: Option<&'a str>,
}

/// Checks login ID and password (and the one-time code, when given) and, if all rules pass,
/// opens a full session. Without a code for a login that needs one, the step is a challenge
/// that `complete_second_factor_with` finishes, unless a familiar browser's token lets the
/// login skip it; a password that must change first, or a token still to register, are steps
/// too. Denials are errors.
pub async fn password_login(
    state: &App,
    client: &ClientInfo,
    login_id: &str,
    password: &str,
    extras: LoginExtras<'_>,
) -> Result<LoginStep, AppError> {
    let result = password_login_inner(state, client, login_id, password, extras).await;
    state.metrics.login(match &result {
        Ok(step) => step.outcome_name(),
        Err(e) => e.error.name(),
    });
    result
}

async fn password_login_inner(
    state: &App,
    client: &ClientInfo,
    login_id: &str,
    password: &str,
    extras: LoginExtras<'_>,
) -> Result<LoginStep, AppError> {
    let password = PasswordPolicy::normalize(password);
    let login = match LoginId::parse(login_id) {
        Ok(id) => state.store.get_login(id.as_str()).await?,
        Err(_) => None,
    };
    let Some(login) = login else {
        // Same work and the same answer as a wrong password.
        state.hashes.verify(&state.metrics, password, None).await?;
        let attempted: String = login_id.chars().take(64).collect();
        let ev = state
            .event(
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
    let owner = sekisho_store::PasswordOwner::Login(login.id);
    let ok =
        crate::auth::verify_password(state, owner, password, login.password_hash.clone()).await?;
    let now = state.clock.now();
    if !ok {
        let reason = if login.password_hash.is_some() {
            "wrong password"
        } else {
            "no password set"
        };
        let e = Error::InvalidCredentials;
        password_failure(state, client, &login, EventType::LoginFailed, reason, &e).await?;
        return Err(e.into());
    }
    match login.after_password(&state.settings.password_policy, now) {
        Err(e) => {
            refuse(state, client, &login, &e, e.name()).await?;
            Err(e.into())
        }
        Ok(AfterPassword::ChangeRequired(reason)) => {
            let spec = SessionSpec {
                purpose: SessionPurpose::PasswordChange,
                expires_at: now.plus_secs(state.settings.password_change_secs),
                methods: &["pwd"],
                description: &format!("password change required ({})", reason.as_str()),
                event_type: EventType::LoginFailed,
                error_code: Some(crate::flow::step_names::PASSWORD_CHANGE_REQUIRED_CODE),
                challenge_id: None,
            };
            let issued = open_session(state, client, &login, spec).await?;
            let offer = PasswordChangeOffer {
                reason,
                token: issued.token,
                expires_at: issued.session.expires_at,
            };
            Ok(LoginStep::PasswordChangeRequired(offer))
        }
        Ok(AfterPassword::Proceed) => second_step(state, client, &login, extras).await,
    }
}

/// After a correct password: the second factor, inline (`otp`) or through a challenge.
async fn second_step(
    state: &App,
    client: &ClientInfo,
    login: &Login,
    extras: LoginExtras<'_>,
) -> Result<LoginStep, AppError> {
    let otp = extras.otp;
    let totp = totp::active_totp(state, login.id).await?;
    let hw = hwtoken::registered_token(state, login.id).await?;
    let mut registered: Vec<SecondFactor> = totp.iter().map(|_| SecondFactor::Totp).collect();
    if hw.is_some() {
        registered.push(SecondFactor::Token);
    }
    // Every login has an address for codes; it counts as registered when the firm chose e-mail
    // codes for the login or the customer set a delivery address of their own.
    if login.second_factor == SecondFactor::Email || login.code_email.is_some() {
        registered.push(SecondFactor::Email);
    }
    // The firm's rollout: before the deadline a login without a factor goes on with a reminder;
    // after it, an e-mail code or a refusal, as configured (per-login `mfa_required` already
    // made the step `NotInitialized` whatever the date).
    let rollout = state
        .settings
        .mfa
        .apply(login.second_step(&registered), state.clock.now());
    let step = passkey_login::apply_policy(state, login, rollout.step).await?;
    // The token's ID goes with any challenge the token may answer (the customer may choose it
    // even when the app is the default).
    let token_id = hw
        .as_ref()
        .filter(|_| matches!(&step, SecondStep::Required(m) if m.contains(&SecondFactor::Token)))
        .map(|t| t.token_id.clone());
    // With a token registered and allowed, the code is checked against the token (its ID is
    // shown with the challenge, as the token login screen does); otherwise against the app.
    let token = hw
        .filter(|_| matches!(&step, SecondStep::Required(m) if m.contains(&SecondFactor::Token)))
        // With both an app and a token under `any`, the app answers, as in
        // `complete_inner`; a login set to `token` always uses the token.
        .filter(|_| login.second_factor == SecondFactor::Token || totp.is_none());
    match step {
        SecondStep::PasswordOnly => {
            let mut issued = open_session(
                state,
                client,
                login,
                full_session(state, &["pwd"], "password", None),
            )
            .await?;
            issued.mfa_reminder = rollout.reminder;
            Ok(LoginStep::done(issued))
        }
        SecondStep::NotInitialized => {
            let e = Error::SecondFactorNotInitialized;
            refuse(
                state,
                client,
                login,
                &e,
                "second factor required but not registered",
            )
            .await?;
            if login.second_factor != SecondFactor::Token {
                return Err(setup_hint(state, login, e).await?);
            }
            // A token login's start-of-use registration (利用開始登録) follows the password:
            // the challenge lets the customer bind a token with two consecutive codes.
            let now = state.clock.now();
            let tok = token::generate("sksc", state.rng.as_ref());
            let expires = now.plus_secs(state.settings.challenge_secs);
            let methods = vec![TOKEN_REGISTER.to_owned()];
            state
                .store
                .create_challenge(&token::hash(&tok), login.id, &methods, now, expires)
                .await?;
            let offer = TokenRegistrationOffer {
                challenge: tok,
                methods,
                expires_at: expires,
            };
            Ok(LoginStep::TokenRegistrationRequired(offer))
        }
        SecondStep::Required(methods) => {
            // The factor this login would be asked for: the app's code when one is registered.
            let asked = if methods == [SecondFactor::Passkey] {
                SecondFactor::Passkey
            } else if token.is_some() {
                SecondFactor::Token
            } else if totp.is_some() {
                SecondFactor::Totp
            } else if methods.contains(&SecondFactor::Email) {
                SecondFactor::Email
            } else {
                methods.first().copied().unwrap_or(SecondFactor::Totp)
            };
            if let Some(code) = extras.recovery_code {
                recovery::check(state, client, login, code).await?;
                let spec = full_session(
                    state,
                    &["pwd", recovery::METHOD],
                    "password + recovery code",
                    None,
                );
                return open_session(state, client, login, spec)
                    .await
                    .map(LoginStep::done);
            }
            if let (None, Some(t)) = (otp, extras.device_token) {
                if let Some(d) = devices::usable(state, login, t, asked.as_str()).await? {
                    let what = format!(
                        "password + familiar browser ({} skipped; device {}, {})",
                        asked.as_str(),
                        d.uid,
                        d.label
                    );
                    let spec = full_session(state, &["pwd", "device"], &what, None);
                    return open_session(state, client, login, spec)
                        .await
                        .map(LoginStep::done);
                }
            }
            if methods.contains(&SecondFactor::Passkey) {
                if otp.is_none() {
                    let offer = passkey_login::challenge(state, login, &methods).await?;
                    return Ok(LoginStep::SecondFactor(offer));
                }
                if methods == [SecondFactor::Passkey] {
                    return Err(Error::PasskeyRequired.into());
                }
            }
            let offered = Offered {
                methods: &methods,
                token_id,
            };
            required(state, client, login, otp, totp, token, offered).await
        }
    }
}

/// The second factors a login may answer with, and the ID of its token if one of them.
struct Offered<'a> {
    methods: &'a [SecondFactor],
    token_id: Option<String>,
}

async fn required(
    state: &App,
    client: &ClientInfo,
    login: &Login,
    otp: Option<&str>,
    totp: Option<sekisho_store::OtpFactor>,
    token: Option<sekisho_store::OtpToken>,
    offered: Offered<'_>,
) -> Result<LoginStep, AppError> {
    let methods = offered.methods;
    match (otp, totp, token) {
        (Some(code), _, Some(t)) => {
            hwtoken::check_login_code(state, client, &login.login_id, &t, code).await?;
            let spec = full_session(state, &["pwd", "otp"], "password + token", None);
            open_session(state, client, login, spec)
                .await
                .map(LoginStep::done)
        }
        (Some(code), Some(f), None) => {
            totp::check_code(
                state,
                client,
                &login.login_id,
                Actor::SelfService,
                &f,
                code,
                totp::OnSuccess {
                    activate: false,
                    audit: None,
                },
            )
            .await?;
            let spec = full_session(state, &["pwd", "otp"], "password + authenticator app", None);
            open_session(state, client, login, spec)
                .await
                .map(LoginStep::done)
        }
        // An app's code is the stronger factor: with one registered, no mail is sent (Gungin).
        (_, None, None) if methods.contains(&SecondFactor::Email) => {
            let offer = email_code::start(state, client, login).await?;
            Ok(LoginStep::EmailCodeSent(offer))
        }
        (_, _, _) => {
            let offer = second_factor_challenge(state, login, methods, offered.token_id).await?;
            Ok(LoginStep::SecondFactor(offer))
        }
    }
}

/// Opens the challenge of a second step (`methods`, without the e-mail code, which has its own
/// challenge; recovery codes while unused ones remain) and offers it, with the token's ID
/// where a token may answer.
pub async fn second_factor_challenge(
    state: &App,
    login: &Login,
    methods: &[SecondFactor],
    token_id: Option<String>,
) -> Result<ChallengeOffer, AppError> {
    let now = state.clock.now();
    let tok = token::generate("sksc", state.rng.as_ref());
    let mut names: Vec<String> = methods
        .iter()
        .filter(|m| **m != SecondFactor::Email)
        .map(|m| m.as_str().to_owned())
        .collect();
    if recovery::usable(state, login.id).await? {
        names.push(recovery::METHOD.to_owned());
    }
    let expires = now.plus_secs(state.settings.challenge_secs);
    state
        .store
        .create_challenge(&token::hash(&tok), login.id, &names, now, expires)
        .await?;
    Ok(ChallengeOffer {
        challenge: tok,
        methods: names,
        expires_at: expires,
        token_id,
    })
}

/// Finishes a login waiting for its second factor with the factor the customer chose among the
/// challenge's methods (`totp` or `token` when both are registered); `None`, or a method the
/// challenge does not offer, is the login's configured one. With `remember`, the browser
/// becomes familiar (if the firm allows it for the method used).
pub async fn complete_second_factor_with(
    state: &App,
    client: &ClientInfo,
    challenge: &str,
    method: Option<&str>,
    otp: &str,
    remember: bool,
) -> Result<Issued, AppError> {
    let result = complete_inner(state, client, challenge, method, otp).await;
    let result = match result {
        Ok((mut issued, method, login)) if remember => {
            issued.device = devices::remember(state, client, &login, method).await?;
            Ok(issued)
        }
        other => other.map(|(issued, _, _)| issued),
    };
    state.metrics.login(match &result {
        Ok(_) => "succeeded",
        Err(e) => e.error.name(),
    });
    result
}

/// Finishes a login waiting for its second factor with a recovery code instead (the phone is
/// lost): the code is used up, audited and notified; a wrong one counts toward the recovery
/// codes' lock. The browser is not remembered.
pub async fn complete_with_recovery_code(
    state: &App,
    client: &ClientInfo,
    challenge: &str,
    code: &str,
) -> Result<Issued, AppError> {
    let result = async {
        let (ch, login) = open_challenge(state, challenge).await?;
        recovery::check(state, client, &login, code).await?;
        let spec = full_session(
            state,
            &["pwd", recovery::METHOD],
            "password + recovery code",
            Some(ch.id),
        );
        open_session(state, client, &login, spec).await
    }
    .await;
    state.metrics.login(match &result {
        Ok(_) => "succeeded",
        Err(e) => e.error.name(),
    });
    result
}

/// The method of a challenge that waits for a token's start-of-use registration.
pub const TOKEN_REGISTER: &str = "token_register";

/// The ways a login waiting at `challenge` may finish, in the order offered: the challenge's
/// methods (the login's configured one first), then recovery codes when the login has unused
/// ones (any challenge accepts one, see [`complete_with_recovery_code`]).
pub async fn challenge_methods(state: &App, challenge: &str) -> Result<Vec<String>, AppError> {
    let (ch, login) = open_challenge(state, challenge).await?;
    // A registration challenge is answered by the token once it is registered (利用開始登録
    // first, then the login goes on with a new code of that token).
    let registered = ch.methods.iter().any(|m| m == TOKEN_REGISTER)
        && hwtoken::registered_token(state, login.id).await?.is_some();
    let mut methods: Vec<String> = ch
        .methods
        .iter()
        .map(|m| {
            if registered && m == TOKEN_REGISTER {
                SecondFactor::Token.as_str().to_owned()
            } else {
                m.clone()
            }
        })
        .collect();
    if !methods.iter().any(|m| m == recovery::METHOD) && recovery::usable(state, login.id).await? {
        methods.push(recovery::METHOD.to_owned());
    }
    Ok(methods)
}

/// The open challenge `challenge` and its login, if the login may still proceed.
pub async fn open_challenge(
    state: &App,
    challenge: &str,
) -> Result<(sekisho_store::Challenge, Login), AppError> {
    let now = state.clock.now();
    let token_hash = token::hash(challenge);
    let ch = state
        .store
        .get_challenge(&token_hash)
        .await?
        .filter(|c| c.completed_at.is_none() && now < c.expires_at)
        .ok_or(Error::ChallengeInvalid)?;
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
    Ok((ch, login))
}

async fn complete_inner(
    state: &App,
    client: &ClientInfo,
    challenge: &str,
    method: Option<&str>,
    otp: &str,
) -> Result<(Issued, &'static str, Login), AppError> {
    let token_hash = token::hash(challenge);
    let (ch, login) = open_challenge(state, challenge).await?;
    // A challenge only a passkey answers takes no code.
    if !ch
        .methods
        .iter()
        .any(|m| m == email_code::METHOD || m == "totp" || m == "token" || m == TOKEN_REGISTER)
        && ch.methods.iter().any(|m| m == crate::passkey::METHOD)
    {
        return Err(Error::PasskeyRequired.into());
    }
    let chosen = method.filter(|m| ch.methods.iter().any(|x| x == m));
    if ch.methods.iter().any(|m| m == email_code::METHOD) {
        email_code::check(state, client, &ch, &token_hash, otp).await?;
        let spec = full_session(
            state,
            &["pwd", "email"],
            "password + e-mail code",
            Some(ch.id),
        );
        let issued = open_session(state, client, &login, spec).await?;
        return Ok((issued, email_code::METHOD, login));
    }
    // A challenge opened for a token (or for its registration, once done) is answered by the
    // token; any other by the authenticator app.
    if let Some(t) = hwtoken::registered_token(state, login.id).await? {
        let use_token = match chosen {
            Some("token") => true,
            Some("totp") => false,
            _ => {
                login.second_factor == SecondFactor::Token
                    || totp::active_totp(state, login.id).await?.is_none()
            }
        };
        if use_token {
            hwtoken::check_login_code(state, client, &login.login_id, &t, otp).await?;
            let spec = full_session(state, &["pwd", "otp"], "password + token", Some(ch.id));
            let issued = open_session(state, client, &login, spec).await?;
            return Ok((issued, SecondFactor::Token.as_str(), login));
        }
    }
    let f = totp::active_totp(state, login.id)
        .await?
        .ok_or(Error::ChallengeInvalid)?;
    totp::check_code(
        state,
        client,
        &login.login_id,
        Actor::SelfService,
        &f,
        otp,
        totp::OnSuccess {
            activate: false,
            audit: None,
        },
    )
    .await?;
    let spec = full_session(
        state,
        &["pwd", "otp"],
        "password + authenticator app",
        Some(ch.id),
    );
    let issued = open_session(state, client, &login, spec).await?;
    Ok((issued, SecondFactor::Totp.as_str(), login))
}

/// Opens the full session of a login whose passkey was verified: after its password (the
/// challenge `challenge_id`, which the session uses up) or passwordless.
pub async fn passkey_session(
    state: &App,
    client: &ClientInfo,
    login: &Login,
    challenge_id: Option<i64>,
) -> Result<Issued, AppError> {
    let (methods, what): (&[&str], &str) = match challenge_id {
        Some(_) => (&["pwd", crate::passkey::METHOD], "password + passkey"),
        None => (&[crate::passkey::METHOD], "passkey (passwordless)"),
    };
    let result = open_session(
        state,
        client,
        login,
        full_session(state, methods, what, challenge_id),
    )
    .await;
    state.metrics.login(match &result {
        Ok(_) => "succeeded",
        Err(e) => e.error.name(),
    });
    result
}

fn full_session<'a>(
    state: &App,
    methods: &'a [&'a str],
    description: &'a str,
    challenge_id: Option<i64>,
) -> SessionSpec<'a> {
    SessionSpec {
        purpose: SessionPurpose::Full,
        expires_at: state
            .clock
            .now()
            .plus_secs(state.settings.session.absolute_secs),
        methods,
        description,
        event_type: EventType::LoginSucceeded,
        error_code: None,
        challenge_id,
    }
}

/// Records a refused login (`login_failed` with the error's code) for `login`.
pub async fn refuse(
    state: &App,
    client: &ClientInfo,
    login: &Login,
    e: &Error,
    reason: &str,
) -> Result<(), AppError> {
    let ev = state
        .event(
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

/// The session a login step opens and the audit event that records it.
struct SessionSpec<'a> {
    purpose: SessionPurpose,
    expires_at: Timestamp,
    methods: &'a [&'a str],
    description: &'a str,
    event_type: EventType,
    error_code: Option<&'a str>,
    challenge_id: Option<i64>,
}

async fn open_session(
    state: &App,
    client: &ClientInfo,
    login: &Login,
    spec: SessionSpec<'_>,
) -> Result<Issued, AppError> {
    let now = state.clock.now();
    let tok = token::generate("skss", state.rng.as_ref());
    let new = NewSession {
        token_hash: token::hash(&tok),
        login_pk: login.id,
        purpose: spec.purpose,
        methods: spec.methods.iter().map(|m| (*m).to_owned()).collect(),
        now,
        expires_at: spec.expires_at,
        client_ip: client.ip.clone(),
        user_agent: client.user_agent.clone(),
        challenge_id: spec.challenge_id,
    };
    let mut ev = state.event(
        spec.event_type,
        Some(&login.login_id),
        Actor::SelfService,
        client,
        spec.description,
    );
    ev.error_code = spec.error_code.map(str::to_owned);
    if let Some(session) = state.store.create_session(&new, &ev).await? {
        if spec.event_type == EventType::LoginSucceeded && notify::wants_login_notice(state, login)
        {
            let what = Notice::Login {
                ip: client.ip.as_deref(),
                user_agent: client.user_agent.as_deref(),
                methods: &session.methods,
            };
            notify::send(state, login, &what).await;
        }
        return Ok(Issued {
            token: tok,
            session,
            device: None,
            mfa_reminder: None,
        });
    }
    // Refused in the transaction: say why.
    let now_login = state.store.get_login(&login.login_id).await?;
    Err(match now_login {
        Some(l) if l.disabled => Error::LoginDisabled,
        Some(l) if l.is_locked() => Error::LoginLocked,
        Some(_) if spec.challenge_id.is_some() => Error::ChallengeInvalid,
        _ => Error::LoginLocked,
    }
    .into())
}

/// The `second_factor_not_initialized` refusal with the CQG hint ("Second factor
/// authentication must be initialized (visit … for details)") when an operator's setup link
/// for the second factor is waiting. Reached only after the password was verified. The link's
/// token is kept only as a keyed hash (DESIGN), so the hint points to the link in the
/// customer's mail and says until when it works, rather than repeating it.
async fn setup_hint(state: &App, login: &Login, e: Error) -> Result<AppError, AppError> {
    let now = state.clock.now();
    let link = state
        .store
        .latest_setup_links(&[login.id])
        .await?
        .pop()
        .filter(|l| l.is_open(now) && l.set_second_factor);
    let Some(link) = link else {
        return Ok(e.into());
    };
    let hint = match login.lang {
        sekisho_core::Lang::Ja => format!(
            "二段階認証の登録が必要です(ご登録のメールアドレスにお送りした設定用リンクから登録してください。有効期限: {})。",
            crate::mail::templates::jst(link.expires_at)
        ),
        sekisho_core::Lang::En => format!(
            "Second factor authentication must be initialized (visit the setup link e-mailed to you; it expires {}).",
            crate::mail::templates::utc(link.expires_at)
        ),
    };
    Ok(AppError::with(
        e,
        ErrorContext::SetupLinkPending {
            expires_at: link.expires_at,
            hint,
        },
    ))
}
