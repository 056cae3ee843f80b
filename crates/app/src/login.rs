//! The login: the password step and the second step as the application drives them. The
//! decisions are `sekisho_core::flow`'s (a pure state machine); this module gathers the facts
//! they need (IO), performs what each state asks for (verify an answer, look up a familiar
//! browser, open a challenge, mail a code, open a session, record a refusal) and hands the
//! doors a [`LoginStep`]. Finishing at a challenge is in [`crate::login_challenge`]. Shared by
//! the JSON API and the hosted pages (and, next, the OpenID Connect door).

use crate::auth::password_failure;
use crate::devices::{self, IssuedDevice};
use crate::email_code;
use crate::error::{AppError, ErrorContext};
use crate::flow::{ChallengeOffer, LoginStep, PasswordChangeOffer, TokenRegistrationOffer};
use crate::hwtoken;
use crate::mail::notices::Notice;
use crate::notify;
use crate::passkey;
use crate::recovery;
use crate::state::App;
use crate::totp;
use sekisho_core::audit::{Actor, ClientInfo, EventType};
use sekisho_core::flow::{
    self, Account, Denial, Done, Event, Factor, Facts, Inline, LoginState, PasskeyRules, Record,
    Registered,
};
use sekisho_core::lockout::Verdict;
use sekisho_core::login::Login;
use sekisho_core::password::PasswordPolicy;
use sekisho_core::session::{Session, SessionPurpose};
use sekisho_core::validate::LoginId;
use sekisho_core::{token, Error, Timestamp};
use sekisho_store::{NewSession, OtpFactor, OtpToken};

pub use crate::login_challenge::{
    answerable, challenge_methods, complete_second_factor_with, complete_with_recovery_code,
    open_challenge, passkey_session, Answerable,
};

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
    /// What the login proved (`amr`, `acr`, auth time); `None` for a restricted session.
    pub proof: Option<Done>,
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
        // The growing delay holds unknown IDs too, so the wait names no existing login.
        crate::throttle::password_failed(state, login_id).await?;
        return Err(Error::InvalidCredentials.into());
    };
    let login = crate::auth::lift_expired_lock(state, client, login).await?;
    let owner = sekisho_store::PasswordOwner::Login(login.id);
    let ok =
        crate::auth::verify_password(state, owner, password, login.password_hash.clone()).await?;
    if ok && !login.is_locked() && !login.disabled {
        crate::throttle::password_accepted(state, &login.login_id).await?;
    }
    let now = state.clock.now();
    let account = Account::of(&login, &state.settings.password_policy, now);
    let st = flow::next(
        LoginState::PasswordStep,
        Event::PasswordChecked { ok, account },
        now,
    );
    let mut driver = Driver {
        state,
        client,
        login: &login,
        extras,
        gathered: Gathered::default(),
    };
    driver.drive(st).await
}

/// The factors gathered after the right password, which the verifiers need.
#[derive(Default)]
struct Gathered {
    totp: Option<OtpFactor>,
    token: Option<OtpToken>,
    device: Option<sekisho_store::TrustedDevice>,
}

/// One login after its password: performs what each state asks until the login is done,
/// refused or waiting for the client.
struct Driver<'a> {
    state: &'a App,
    client: &'a ClientInfo,
    login: &'a Login,
    extras: LoginExtras<'a>,
    gathered: Gathered,
}

impl Driver<'_> {
    async fn drive(&mut self, mut st: LoginState) -> Result<LoginStep, AppError> {
        let (state, client, login) = (self.state, self.client, self.login);
        // A verifier's own refusal (with its context) is what the client gets.
        let mut refused: Option<AppError> = None;
        loop {
            let now = state.clock.now();
            st = match st {
                LoginState::PasswordAccepted => {
                    let facts = self.gather().await?;
                    flow::next(st, Event::FactorsGathered(Box::new(facts)), now)
                }
                LoginState::VerifyingInline { factor, .. } => {
                    let result = self.verify_inline(factor).await;
                    let answer = result.as_ref().map(|_| ()).map_err(|e| e.error.clone());
                    refused = result.err();
                    flow::next(
                        st,
                        Event::FactorAnswered {
                            factor,
                            result: answer,
                        },
                        now,
                    )
                }
                LoginState::CheckingDevice(ref plan) => {
                    let device = match self.extras.device_token {
                        Some(t) => devices::usable(state, login, t, plan.asked.as_str()).await?,
                        None => None,
                    };
                    let recognised = device.is_some();
                    self.gathered.device = device;
                    flow::next(st, Event::DeviceChecked { recognised }, now)
                }
                LoginState::Done(done) => {
                    let what = match (done.second, &self.gathered.device) {
                        (flow::Second::FamiliarBrowser(asked), Some(d)) => format!(
                            "password + familiar browser ({} skipped; device {}, {})",
                            asked.as_str(),
                            d.uid,
                            d.label
                        ),
                        _ => done.description().to_owned(),
                    };
                    let spec = full_session(state, &done, &what, None);
                    let mut issued = open_session(state, client, login, spec).await?;
                    issued.mfa_reminder = done.mfa_reminder;
                    issued.proof = Some(done);
                    return Ok(LoginStep::done(issued));
                }
                LoginState::AwaitingFactor { offered, token } => {
                    let token_id = match (token, &self.gathered.token) {
                        (true, Some(t)) => Some(t.token_id.clone()),
                        _ => None,
                    };
                    let offer = second_factor_challenge(state, login, &offered, token_id).await?;
                    return Ok(LoginStep::SecondFactor(offer));
                }
                LoginState::AwaitingEmailCode => {
                    let offer = email_code::start(state, client, login).await?;
                    return Ok(LoginStep::EmailCodeSent(offer));
                }
                LoginState::PasswordChangeRequired { reason } => {
                    return self.password_change(reason).await;
                }
                LoginState::TokenRegistrationRequired => {
                    let e = Error::SecondFactorNotInitialized;
                    refuse(state, client, login, &e, flow::NOT_INITIALIZED).await?;
                    return token_registration(state, login).await;
                }
                LoginState::Denied(d) => {
                    return Err(match (refused, d.record) {
                        (Some(e), Record::Settled) => e,
                        (_, _) => deny(state, client, login, d).await?,
                    });
                }
                LoginState::PasswordStep => return Err(Error::Internal.into()),
            };
        }
    }

    /// The second step's facts: the registered factors, the firm's rules and what came with
    /// the password.
    async fn gather(&mut self) -> Result<Facts, AppError> {
        let (state, login) = (self.state, self.login);
        let totp = totp::active_totp(state, login.id).await?;
        let token = hwtoken::registered_token(state, login.id).await?;
        let cfg = &state.settings.passkeys;
        let mut facts = Facts::of(login);
        facts.registered = Registered {
            app: totp.is_some(),
            token: token.is_some(),
            passkey: passkey::has_usable(state, login.id).await?,
        };
        facts.passkeys = PasskeyRules {
            required: cfg.required,
            instead_of_codes: cfg.instead_of_codes,
        };
        facts.rollout = state.settings.mfa;
        facts.inline = Inline {
            otp: self.extras.otp.is_some(),
            recovery_code: self.extras.recovery_code.is_some(),
            device_token: self.extras.device_token.is_some(),
        };
        self.gathered.totp = totp;
        self.gathered.token = token;
        Ok(facts)
    }

    /// Checks the answer sent with the password with `factor`'s verifier (which settles a
    /// refusal: counts, locks, notices, audit).
    async fn verify_inline(&self, factor: Factor) -> Result<(), AppError> {
        let (state, client, login) = (self.state, self.client, self.login);
        let x = self.extras;
        match (factor, x.otp, x.recovery_code) {
            (Factor::RecoveryCode, _, Some(code)) => recovery::check(state, client, login, code)
                .await
                .map(|_| ()),
            (Factor::Token, Some(code), _) => {
                let t = self.gathered.token.as_ref().ok_or(Error::Internal)?;
                hwtoken::check_login_code(state, client, &login.login_id, t, code).await
            }
            (Factor::Totp, Some(code), _) => {
                let f = self.gathered.totp.as_ref().ok_or(Error::Internal)?;
                let on_success = totp::OnSuccess {
                    activate: false,
                    audit: None,
                };
                let actor = Actor::SelfService;
                totp::check_code(state, client, &login.login_id, actor, f, code, on_success).await
            }
            _ => Err(Error::Internal.into()),
        }
    }

    /// The restricted session that may change the password.
    async fn password_change(
        &self,
        reason: sekisho_core::login::ChangeReason,
    ) -> Result<LoginStep, AppError> {
        let state = self.state;
        let now = state.clock.now();
        let spec = SessionSpec {
            purpose: SessionPurpose::PasswordChange,
            expires_at: now.plus_secs(state.settings.session.password_change_timeout_secs),
            methods: vec!["pwd"],
            description: &format!("password change required ({})", reason.as_str()),
            event_type: EventType::LoginFailed,
            error_code: Some(crate::flow::step_names::PASSWORD_CHANGE_REQUIRED_CODE),
            challenge_id: None,
        };
        let issued = open_session(state, self.client, self.login, spec).await?;
        Ok(LoginStep::PasswordChangeRequired(PasswordChangeOffer {
            reason,
            token: issued.token,
            expires_at: issued.session.expires_at,
        }))
    }
}

/// Records a refusal as the flow says and answers its error.
async fn deny(
    state: &App,
    client: &ClientInfo,
    login: &Login,
    d: Denial,
) -> Result<AppError, AppError> {
    match d.record {
        Record::Password {
            verdict: Verdict::Locked,
            reason,
        } => {
            locked(state, client, login, reason).await?;
        }
        Record::Password { reason, .. } => {
            password_failure(
                state,
                client,
                login,
                EventType::LoginFailed,
                reason,
                &d.error,
            )
            .await?;
        }
        Record::Refused(reason) => {
            refuse(state, client, login, &d.error, reason).await?;
            if d.error == Error::SecondFactorNotInitialized {
                return setup_hint(state, login, d.error).await;
            }
        }
        Record::Settled => {}
    }
    Ok(d.error.into())
}

/// A token login's start-of-use registration (利用開始登録) follows the password: the
/// challenge lets the customer bind a token with two consecutive codes.
async fn token_registration(state: &App, login: &Login) -> Result<LoginStep, AppError> {
    let now = state.clock.now();
    let tok = token::generate("sksc", state.rng.as_ref());
    let expires = now.plus_secs(state.settings.session.challenge_timeout_secs);
    let methods = vec![Factor::TokenRegistration];
    state
        .store
        .create_challenge(
            &token::hash(&tok),
            login.id,
            &Factor::names(&methods),
            now,
            expires,
        )
        .await?;
    Ok(LoginStep::TokenRegistrationRequired(
        TokenRegistrationOffer {
            challenge: tok,
            methods,
            expires_at: expires,
        },
    ))
}

/// Opens the challenge of a second step (`offered`, without the e-mail code, which has its
/// own challenge; recovery codes while unused ones remain) and offers it, with the token's ID
/// where a token may answer.
pub async fn second_factor_challenge(
    state: &App,
    login: &Login,
    offered: &[Factor],
    token_id: Option<String>,
) -> Result<ChallengeOffer, AppError> {
    let now = state.clock.now();
    let tok = token::generate("sksc", state.rng.as_ref());
    let mut methods: Vec<Factor> = offered
        .iter()
        .copied()
        .filter(|m| *m != Factor::Email)
        .collect();
    if recovery::usable(state, login.id).await? {
        methods.push(Factor::RecoveryCode);
    }
    let expires = now.plus_secs(state.settings.session.challenge_timeout_secs);
    state
        .store
        .create_challenge(
            &token::hash(&tok),
            login.id,
            &Factor::names(&methods),
            now,
            expires,
        )
        .await?;
    Ok(ChallengeOffer {
        challenge: tok,
        methods,
        expires_at: expires,
        token_id,
    })
}

/// The method of a challenge that waits for a token's start-of-use registration.
pub const TOKEN_REGISTER: &str = Factor::TokenRegistration.as_str();

/// The full session of a completed login and the audit record that says how (`what`).
pub(crate) fn full_session<'a>(
    state: &App,
    done: &Done,
    what: &'a str,
    challenge_id: Option<i64>,
) -> SessionSpec<'a> {
    SessionSpec {
        purpose: SessionPurpose::Full,
        expires_at: state
            .clock
            .now()
            .plus_secs(state.settings.session.absolute_timeout_secs),
        methods: done.session_methods(),
        description: what,
        event_type: EventType::LoginSucceeded,
        error_code: None,
        challenge_id,
    }
}

/// Settles a password typed for a locked login: refused without counting (the one lock
/// rule, `lockout`), audited as `login_failed` with the lock's code.
async fn locked(
    state: &App,
    client: &ClientInfo,
    login: &Login,
    reason: &str,
) -> Result<(), AppError> {
    crate::factor_guard::settle(
        state,
        Verdict::Locked,
        crate::factor_guard::Refusal {
            counter: crate::factor_guard::Counter::Password(login.id),
            threshold: state.settings.password_policy.lockout_threshold,
            subject: "password",
            login_id: Some(&login.login_id),
            actor: Actor::SelfService,
            client,
            event_type: EventType::LoginFailed,
            reason,
            error: Error::LoginLocked,
        },
    )
    .await?;
    // Every password typed for a locked login waits like a wrong one (same answer, same work).
    crate::throttle::password_failed(state, &login.login_id).await?;
    Ok(())
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
pub(crate) struct SessionSpec<'a> {
    purpose: SessionPurpose,
    expires_at: Timestamp,
    methods: Vec<&'static str>,
    description: &'a str,
    event_type: EventType,
    error_code: Option<&'a str>,
    challenge_id: Option<i64>,
}

pub(crate) async fn open_session(
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
            proof: None,
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
            state.settings.zone.seconds(link.expires_at)
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
