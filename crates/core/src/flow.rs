//! The login as a state machine: what comes after the password, after a familiar browser or
//! an answer sent with the password is checked, and after a factor answers at a challenge.
//!
//! Pure: the application gathers the facts (IO), hands them in as plain values, and performs
//! what the state it gets back asks for (verify an answer, look up a familiar browser, open a
//! challenge, mail a code, open a session, record a refusal). "What comes next" and denials are
//! values here, never errors. The JSON API, the hosted pages and the OpenID Connect door drive
//! this one flow; [`Done`] carries what the session proves (`amr`, `acr`, auth time).
//!
//! ```text
//!  PasswordStep ──PasswordChecked──► Denied (locked: every password alike, uncounted)
//!       │                            PasswordChangeRequired
//!       ▼
//!  PasswordAccepted ──FactorsGathered──► Done (password only) / Denied /
//!       │                                TokenRegistrationRequired / AwaitingEmailCode
//!       ▼
//!  VerifyingInline ──FactorAnswered──► Done / Denied
//!  CheckingDevice  ──DeviceChecked───► Done (familiar browser) / AwaitingFactor / Verifying…
//!  AwaitingFactor  ──FactorAnswered──► Done / Denied
//!  PasswordStep ──PasskeyVerified (passwordless)──► Done / Denied
//! ```

use crate::clock::Timestamp;
use crate::error::Error;
use crate::lockout::Verdict;
use crate::login::{ChangeReason, Login, MfaRollout, SecondFactor, SecondStep};
use crate::password::PasswordPolicy;
use serde::{Deserialize, Serialize};

/// A way to answer the second step, as stored with a challenge and shown to clients (the
/// strings of [`Factor::as_str`] are the wire and storage names, unchanged).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Factor {
    /// A code of the login's authenticator app (TOTP).
    #[serde(rename = "totp")]
    Totp,
    /// A code of the login's hardware or software token.
    #[serde(rename = "token")]
    Token,
    /// A code mailed for this login attempt.
    #[serde(rename = "email")]
    Email,
    /// A WebAuthn assertion of one of the login's passkeys.
    #[serde(rename = "passkey")]
    Passkey,
    /// One of the login's unused recovery codes.
    #[serde(rename = "recovery_code")]
    RecoveryCode,
    /// The start-of-use registration of the login's token (利用開始登録), as a challenge kind.
    #[serde(rename = "token_register")]
    TokenRegistration,
}

impl Factor {
    /// Every factor.
    pub const ALL: [Factor; 6] = [
        Factor::Totp,
        Factor::Token,
        Factor::Email,
        Factor::Passkey,
        Factor::RecoveryCode,
        Factor::TokenRegistration,
    ];

    /// The stored / wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Factor::Totp => "totp",
            Factor::Token => "token",
            Factor::Email => "email",
            Factor::Passkey => "passkey",
            Factor::RecoveryCode => "recovery_code",
            Factor::TokenRegistration => "token_register",
        }
    }

    /// Parses a stored / wire name.
    pub fn parse(s: &str) -> Option<Factor> {
        Factor::ALL.into_iter().find(|f| f.as_str() == s)
    }

    /// Parses stored names, skipping any this version does not know.
    pub fn parse_all<S: AsRef<str>>(names: &[S]) -> Vec<Factor> {
        names
            .iter()
            .filter_map(|n| Factor::parse(n.as_ref()))
            .collect()
    }

    /// The stored names of `factors`.
    pub fn names(factors: &[Factor]) -> Vec<String> {
        factors.iter().map(|f| f.as_str().to_owned()).collect()
    }

    /// Whether the factor is answered by typing a code (rather than a passkey ceremony).
    pub fn is_code(self) -> bool {
        !matches!(self, Factor::Passkey)
    }

    /// The RFC 8176 references of this factor (the same words a step-up proof uses): an app's
    /// code `otp` + `swk`, a token's `otp` + `hwk`, a passkey `hwk` + `user` (see
    /// [`crate::step_up::ConfirmMethod::amr`]); a mailed code and a recovery code are one-time
    /// codes (`otp`) held by no key.
    pub fn amr(self) -> &'static [Amr] {
        match self {
            Factor::Totp => &[Amr::Otp, Amr::Swk],
            Factor::Token | Factor::TokenRegistration => &[Amr::Otp, Amr::Hwk],
            Factor::Passkey => &[Amr::Hwk, Amr::User],
            Factor::Email | Factor::RecoveryCode => &[Amr::Otp],
        }
    }
}

impl SecondFactor {
    /// The factor a login set to this method answers with; `None` and `Any` are settings, not
    /// factors.
    pub fn factor(self) -> Option<Factor> {
        match self {
            SecondFactor::Email => Some(Factor::Email),
            SecondFactor::Totp => Some(Factor::Totp),
            SecondFactor::Token => Some(Factor::Token),
            SecondFactor::Passkey => Some(Factor::Passkey),
            SecondFactor::None | SecondFactor::Any => None,
        }
    }
}

/// An authentication method reference (RFC 8176), as an `amr` claim carries it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Amr {
    /// A password.
    Pwd,
    /// A one-time code.
    Otp,
    /// Proof of possession of a software-held key.
    Swk,
    /// Proof of possession of a hardware-held key.
    Hwk,
    /// User presence and verification (a passkey's PIN or biometric).
    User,
    /// More than one factor.
    Mfa,
}

impl Amr {
    /// The registered name.
    pub fn as_str(self) -> &'static str {
        match self {
            Amr::Pwd => "pwd",
            Amr::Otp => "otp",
            Amr::Swk => "swk",
            Amr::Hwk => "hwk",
            Amr::User => "user",
            Amr::Mfa => "mfa",
        }
    }
}

/// How strongly a session was authenticated (the OpenID Connect `acr`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Acr {
    /// The password alone (or a familiar browser that skipped the second factor: no second
    /// factor was proven at this login).
    Password,
    /// A password and a second factor.
    MultiFactor,
    /// A passkey took part: phishing-resistant (bound to the site's origin).
    PhishingResistant,
}

impl Acr {
    /// The name a relying party sees.
    pub fn as_str(self) -> &'static str {
        match self {
            Acr::Password => "password",
            Acr::MultiFactor => "mfa",
            Acr::PhishingResistant => "phishing_resistant",
        }
    }
}

/// What proved the login besides (or instead of) the password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Second {
    /// No second factor (a password-only login).
    Nothing,
    /// This factor answered.
    Factor(Factor),
    /// A familiar browser skipped this factor (the one the login would have been asked for).
    FamiliarBrowser(Factor),
}

/// A completed login: what the full session proves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Done {
    /// The password was verified (false: a passwordless passkey login).
    pub password: bool,
    /// The second factor, if any.
    pub second: Second,
    /// Authentication method references (RFC 8176), from what really happened.
    pub amr: Vec<Amr>,
    /// The level reached.
    pub acr: Acr,
    /// When the login completed.
    pub auth_time: Timestamp,
    /// The MFA deadline to remind a password-only login of (`mfa.mandatory_from`).
    pub mfa_reminder: Option<Timestamp>,
}

impl Done {
    /// The login completed with `password` (verified or not) and `second`, at `now`.
    pub fn new(password: bool, second: Second, now: Timestamp) -> Done {
        let mut amr = Vec::new();
        if password {
            amr.push(Amr::Pwd);
        }
        let factor = match second {
            Second::Factor(f) => Some(f),
            Second::Nothing | Second::FamiliarBrowser(_) => None,
        };
        if let Some(f) = factor {
            for a in f.amr() {
                if !amr.contains(a) {
                    amr.push(*a);
                }
            }
            amr.push(Amr::Mfa);
        }
        let acr = match factor {
            Some(Factor::Passkey) => Acr::PhishingResistant,
            Some(_) => Acr::MultiFactor,
            None => Acr::Password,
        };
        Done {
            password,
            second,
            amr,
            acr,
            auth_time: now,
            mfa_reminder: None,
        }
    }

    /// The `amr` names.
    pub fn amr_names(&self) -> Vec<&'static str> {
        self.amr.iter().map(|a| a.as_str()).collect()
    }

    /// The methods the session stores, as it always has (`pwd`, `otp`, `email`, `device`,
    /// `recovery_code`, `passkey`).
    pub fn session_methods(&self) -> Vec<&'static str> {
        let mut m = Vec::new();
        if self.password {
            m.push("pwd");
        }
        match self.second {
            Second::Nothing => {}
            Second::FamiliarBrowser(_) => m.push("device"),
            Second::Factor(Factor::Totp | Factor::Token | Factor::TokenRegistration) => {
                m.push("otp")
            }
            Second::Factor(f) => m.push(f.as_str()),
        }
        m
    }

    /// The audit description of the login (a familiar browser's names the device too, which
    /// the application adds).
    pub fn description(&self) -> &'static str {
        match (self.password, self.second) {
            (false, _) => "passkey (passwordless)",
            (true, Second::Nothing) => "password",
            (true, Second::FamiliarBrowser(_)) => "password + familiar browser",
            (true, Second::Factor(Factor::Totp)) => "password + authenticator app",
            (true, Second::Factor(Factor::Token | Factor::TokenRegistration)) => "password + token",
            (true, Second::Factor(Factor::Email)) => "password + e-mail code",
            (true, Second::Factor(Factor::RecoveryCode)) => "password + recovery code",
            (true, Second::Factor(Factor::Passkey)) => "password + passkey",
        }
    }
}

/// The factors a login has registered (and Sekisho can check).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Registered {
    /// An active authenticator app.
    pub app: bool,
    /// A registered token.
    pub token: bool,
    /// A usable passkey (none flagged as a possible clone).
    pub passkey: bool,
}

/// The firm's passkey rules (`passkeys.*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PasskeyRules {
    /// Every login must answer with a passkey.
    pub required: bool,
    /// A registered passkey may answer instead of the codes.
    pub instead_of_codes: bool,
}

/// How the passkey rules treat one login's second step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasskeyPolicy {
    /// Passkeys play no part (none registered, and none required).
    None,
    /// A passkey may answer, as may the login's other factors.
    Offered,
    /// Only a passkey answers (required for everyone, or the login is set to `passkey`).
    Required {
        /// The login has a usable passkey.
        registered: bool,
    },
}

impl PasskeyRules {
    /// The policy for a login set to `configured` that has (or has not) a usable passkey.
    pub fn policy(self, configured: SecondFactor, registered: bool) -> PasskeyPolicy {
        if self.required || configured == SecondFactor::Passkey {
            PasskeyPolicy::Required { registered }
        } else if registered && (self.instead_of_codes || configured == SecondFactor::Any) {
            PasskeyPolicy::Offered
        } else {
            PasskeyPolicy::None
        }
    }

    /// The second step once the policy is applied: a required passkey replaces the other
    /// factors (or, required for everyone and not registered, the login cannot go on); an
    /// offered passkey joins them, first, and a registered passkey is always asked for.
    pub fn apply(self, policy: PasskeyPolicy, step: SecondStep) -> SecondStep {
        match (policy, step) {
            (PasskeyPolicy::Required { registered: true }, _) => {
                SecondStep::Required(vec![Factor::Passkey])
            }
            (PasskeyPolicy::Required { registered: false }, s) if !self.required => s,
            (PasskeyPolicy::Required { registered: false }, _) => SecondStep::NotInitialized,
            (PasskeyPolicy::Offered, SecondStep::Required(mut m)) => {
                if !m.contains(&Factor::Passkey) {
                    m.insert(0, Factor::Passkey);
                }
                SecondStep::Required(m)
            }
            (PasskeyPolicy::Offered, _) => SecondStep::Required(vec![Factor::Passkey]),
            (PasskeyPolicy::None, s) => s,
        }
    }
}

/// What a client sent with its password besides the login ID (whether, not what).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Inline {
    /// A one-time code (desktop clients).
    pub otp: bool,
    /// A recovery code in place of the second factor.
    pub recovery_code: bool,
    /// A familiar browser's token.
    pub device_token: bool,
}

/// What the login's record says once its password was checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Account {
    /// Locked by wrong passwords.
    pub locked: bool,
    /// Disabled by an operator.
    pub disabled: bool,
    /// The login has a password (the audit says "no password set" otherwise).
    pub has_password: bool,
    /// The password must be changed first (temporary or expired).
    pub change: Option<ChangeReason>,
}

impl Account {
    /// The account facts of `login` at `now` under `policy`.
    pub fn of(login: &Login, policy: &PasswordPolicy, now: Timestamp) -> Account {
        Account {
            locked: login.is_locked(),
            disabled: login.disabled,
            has_password: login.password_hash.is_some(),
            change: login.password_change(policy, now),
        }
    }
}

/// What the application found out about a login's second step, as plain values (gathered
/// only after the right password, so a wrong one costs no more than an unknown login ID).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    /// The second factor the operator set.
    pub configured: SecondFactor,
    /// A second factor is mandatory for this login.
    pub mfa_required: bool,
    /// E-mail codes count as registered (the firm chose them, or the customer set an address).
    pub email_codes: bool,
    /// The factors registered.
    pub registered: Registered,
    /// The firm's passkey rules.
    pub passkeys: PasskeyRules,
    /// The firm's MFA rollout.
    pub rollout: MfaRollout,
    /// What came with the password.
    pub inline: Inline,
}

impl Facts {
    /// The facts the login's own record gives; the application fills in the rest.
    pub fn of(login: &Login) -> Facts {
        Facts {
            configured: login.second_factor,
            mfa_required: login.mfa_required,
            email_codes: login.second_factor == SecondFactor::Email || login.code_email.is_some(),
            registered: Registered::default(),
            passkeys: PasskeyRules::default(),
            rollout: MfaRollout::default(),
            inline: Inline::default(),
        }
    }

    /// The registered factors the login's setting lets count, in the order asked.
    fn registered_factors(&self) -> Vec<Factor> {
        let mut r = Vec::new();
        if self.registered.app {
            r.push(Factor::Totp);
        }
        if self.registered.token {
            r.push(Factor::Token);
        }
        if self.email_codes {
            r.push(Factor::Email);
        }
        r
    }

    /// The second step: the login's setting, the rollout, then the passkey rules.
    pub fn second_step(&self, now: Timestamp) -> (SecondStep, Option<Timestamp>) {
        let own = SecondStep::of(
            self.configured,
            self.mfa_required,
            &self.registered_factors(),
        );
        let rollout = self.rollout.apply(own, now);
        let policy = self
            .passkeys
            .policy(self.configured, self.registered.passkey);
        (self.passkeys.apply(policy, rollout.step), rollout.reminder)
    }
}

/// The second step being decided: what may answer and what a typed code is checked with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The factors that may answer (recovery codes are added by the challenge when unused
    /// ones remain).
    pub offered: Vec<Factor>,
    /// The factor the login is asked for by default (the one a familiar browser may skip).
    pub asked: Factor,
    /// What a code sent with the password is checked with: the token when it may answer and
    /// the login is set to it (or has no app), else the app when one is registered.
    pub code: Option<Factor>,
    /// What came with the password.
    pub inline: Inline,
}

impl Plan {
    fn new(offered: Vec<Factor>, facts: &Facts) -> Plan {
        let token = facts.registered.token
            && offered.contains(&Factor::Token)
            && (facts.configured == SecondFactor::Token || !facts.registered.app);
        let code = if token {
            Some(Factor::Token)
        } else if facts.registered.app {
            Some(Factor::Totp)
        } else {
            None
        };
        let asked = if offered == [Factor::Passkey] {
            Factor::Passkey
        } else if let Some(c) = code {
            c
        } else if offered.contains(&Factor::Email) {
            Factor::Email
        } else {
            offered.first().copied().unwrap_or(Factor::Totp)
        };
        Plan {
            offered,
            asked,
            code,
            inline: facts.inline,
        }
    }

    /// Whether the login's token is among the factors offered (its ID goes with the
    /// challenge).
    pub fn offers_token(&self) -> bool {
        self.offered.contains(&Factor::Token)
    }
}

/// How a refusal is recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Record {
    /// A password answer settled by the one lock rule (`lockout`): [`Verdict::Wrong`] counts
    /// toward the lock, [`Verdict::Locked`] does not; audited with `reason`.
    Password {
        /// What the password answer was.
        verdict: Verdict,
        /// The audit description.
        reason: &'static str,
    },
    /// A refusal audited with `reason` and the error's code.
    Refused(&'static str),
    /// Nothing more to record (the factor's verifier settled it, or nothing was tried).
    Settled,
}

/// A refused login: the answer and how it is recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial {
    /// What the client is told.
    pub error: Error,
    /// What the history keeps.
    pub record: Record,
}

/// Where a login stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginState {
    /// Waiting for the password (or a passwordless passkey).
    PasswordStep,
    /// The right password: gather the second step's facts, then [`Event::FactorsGathered`].
    PasswordAccepted,
    /// The answer sent with the password must be checked by `factor`'s verifier, then
    /// [`Event::FactorAnswered`].
    VerifyingInline {
        /// The verifier to use.
        factor: Factor,
        /// The second step.
        plan: Plan,
    },
    /// A familiar browser may skip `plan.asked`: look it up, then [`Event::DeviceChecked`].
    CheckingDevice(Plan),
    /// A factor must answer at a challenge.
    AwaitingFactor {
        /// What may answer (never the e-mail code, which has its own challenge; recovery codes
        /// are added by the challenge while unused ones remain).
        offered: Vec<Factor>,
        /// The login's token may answer (its ID is shown).
        token: bool,
    },
    /// A code is mailed; it must answer at the e-mail code's challenge.
    AwaitingEmailCode,
    /// The password must be changed first (a restricted session may).
    PasswordChangeRequired {
        /// Why.
        reason: ChangeReason,
    },
    /// The login's token must be registered first (利用開始登録); recorded as a refusal
    /// (`second_factor_not_initialized`) as well.
    TokenRegistrationRequired,
    /// Complete: a full session.
    Done(Done),
    /// Refused.
    Denied(Denial),
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The password was verified against the login's hash (`ok`: it matched).
    PasswordChecked {
        /// The password matched.
        ok: bool,
        /// What the login's record says.
        account: Account,
    },
    /// The second step's facts were gathered.
    FactorsGathered(Box<Facts>),
    /// A discoverable passkey was verified in place of the password.
    PasskeyVerified {
        /// Locked by wrong passwords.
        locked: bool,
        /// Disabled by an operator.
        disabled: bool,
    },
    /// The familiar browser's token was looked up (and used, if recognised).
    DeviceChecked {
        /// The token names a familiar browser of this login for the factor asked.
        recognised: bool,
    },
    /// A factor's verifier answered (it settled a refusal itself).
    FactorAnswered {
        /// The factor.
        factor: Factor,
        /// Accepted, or the verifier's refusal.
        result: Result<(), Error>,
    },
}

fn denied(error: Error, record: Record) -> LoginState {
    LoginState::Denied(Denial { error, record })
}

/// The one transition function: where a login in `state` goes on `event` at `now`. An event
/// that does not belong to the state ends the login (`challenge_invalid`).
pub fn next(state: LoginState, event: Event, now: Timestamp) -> LoginState {
    match (state, event) {
        (LoginState::PasswordStep, Event::PasswordChecked { ok, account }) => {
            after_password(ok, account)
        }
        (LoginState::PasswordAccepted, Event::FactorsGathered(facts)) => second_step(&facts, now),
        (LoginState::PasswordStep, Event::PasskeyVerified { locked, disabled }) => {
            // The passkey replaced the password, not what keeps the login out (and the right
            // passkey reveals it, as no guess can produce one).
            let reason = "passkey (passwordless): refused";
            if disabled {
                denied(Error::LoginDisabled, Record::Refused(reason))
            } else if locked {
                denied(Error::LoginLocked, Record::Refused(reason))
            } else {
                LoginState::Done(Done::new(false, Second::Factor(Factor::Passkey), now))
            }
        }
        (LoginState::CheckingDevice(plan), Event::DeviceChecked { recognised }) => {
            if recognised {
                let skipped = Second::FamiliarBrowser(plan.asked);
                LoginState::Done(Done::new(true, skipped, now))
            } else {
                without_device(plan)
            }
        }
        // The answer sent with the password completes the login only through the verifier
        // the plan chose; at a challenge, the challenge's own rule ([`code_answer`], the
        // passkey ceremony bound to it, or a recovery code, which any challenge takes) chose.
        (
            LoginState::VerifyingInline { factor, .. },
            Event::FactorAnswered { factor: f, result },
        ) if f == factor => answered(f, result, now),
        (
            LoginState::AwaitingFactor { .. } | LoginState::AwaitingEmailCode,
            Event::FactorAnswered { factor, result },
        ) => answered(factor, result, now),
        _ => denied(Error::ChallengeInvalid, Record::Settled),
    }
}

fn answered(factor: Factor, result: Result<(), Error>, now: Timestamp) -> LoginState {
    match result {
        Ok(()) => LoginState::Done(Done::new(true, Second::Factor(factor), now)),
        Err(e) => denied(e, Record::Settled),
    }
}

fn after_password(ok: bool, account: Account) -> LoginState {
    // No password oracle (issue 16): a locked login answers every password alike, after the
    // same work, and counts no more; the history still says what happened.
    if account.locked {
        let reason = if ok {
            "login locked (right password)"
        } else {
            "login locked (wrong password)"
        };
        let record = Record::Password {
            verdict: Verdict::Locked,
            reason,
        };
        return denied(Error::InvalidCredentials, record);
    }
    if !ok {
        let reason = if account.has_password {
            "wrong password"
        } else {
            "no password set"
        };
        let record = Record::Password {
            verdict: Verdict::Wrong,
            reason,
        };
        return denied(Error::InvalidCredentials, record);
    }
    // Told only to the right password of a login that is not locked: a wrong one counts
    // toward the lock, so no more guesses than at any login.
    if account.disabled {
        return denied(Error::LoginDisabled, Record::Refused("login_disabled"));
    }
    match account.change {
        Some(reason) => LoginState::PasswordChangeRequired { reason },
        None => LoginState::PasswordAccepted,
    }
}

fn second_step(facts: &Facts, now: Timestamp) -> LoginState {
    let (step, reminder) = facts.second_step(now);
    match step {
        SecondStep::PasswordOnly => {
            let mut done = Done::new(true, Second::Nothing, now);
            done.mfa_reminder = reminder;
            LoginState::Done(done)
        }
        // A token login's start-of-use registration follows the password; any other login
        // is refused (with the setup link's hint, which the application adds).
        SecondStep::NotInitialized if facts.configured == SecondFactor::Token => {
            LoginState::TokenRegistrationRequired
        }
        SecondStep::NotInitialized => denied(
            Error::SecondFactorNotInitialized,
            Record::Refused(NOT_INITIALIZED),
        ),
        SecondStep::Required(offered) => {
            let plan = Plan::new(offered, facts);
            if plan.inline.recovery_code {
                return LoginState::VerifyingInline {
                    factor: Factor::RecoveryCode,
                    plan,
                };
            }
            if !plan.inline.otp && plan.inline.device_token {
                return LoginState::CheckingDevice(plan);
            }
            without_device(plan)
        }
    }
}

/// The audit description of a login refused for want of a registered second factor (and of a
/// token login sent to its registration).
pub const NOT_INITIALIZED: &str = "second factor required but not registered";

/// The second step when no familiar browser skips it.
fn without_device(plan: Plan) -> LoginState {
    let otp = plan.inline.otp;
    if plan.offered.contains(&Factor::Passkey) {
        if !otp {
            return challenge(plan);
        }
        if plan.offered == [Factor::Passkey] {
            return denied(Error::PasskeyRequired, Record::Settled);
        }
    }
    match (otp, plan.code) {
        (true, Some(factor)) => LoginState::VerifyingInline { factor, plan },
        // An app's code is the stronger factor: with one registered, no mail is sent (Gungin).
        (_, None) if plan.offered.contains(&Factor::Email) => LoginState::AwaitingEmailCode,
        _ => challenge(plan),
    }
}

/// The challenge of a second step: what the plan offers but the e-mail code.
fn challenge(plan: Plan) -> LoginState {
    let token = plan.offers_token();
    let mut offered = plan.offered;
    offered.retain(|f| *f != Factor::Email);
    LoginState::AwaitingFactor { offered, token }
}

/// Which verifier checks a code typed at a challenge that offers `offered`: `chosen` (`totp`
/// or `token`, when the challenge offers it and both are registered), else the login's
/// configured one. A mailed code's challenge takes the mailed code; a challenge only a passkey
/// answers takes no code (`passkey_required`); a token challenge (or its registration, once
/// done) takes the token's code, any other the app's.
pub fn code_answer(
    offered: &[Factor],
    chosen: Option<Factor>,
    configured: SecondFactor,
    registered: Registered,
) -> Result<Factor, Error> {
    let codes = [
        Factor::Email,
        Factor::Totp,
        Factor::Token,
        Factor::TokenRegistration,
    ];
    if !offered.iter().any(|f| codes.contains(f)) && offered.contains(&Factor::Passkey) {
        return Err(Error::PasskeyRequired);
    }
    if offered.contains(&Factor::Email) {
        return Ok(Factor::Email);
    }
    let chosen = chosen.filter(|c| offered.contains(c));
    if registered.token {
        let use_token = match chosen {
            Some(Factor::Token) => true,
            Some(Factor::Totp) => false,
            _ => configured == SecondFactor::Token || !registered.app,
        };
        if use_token {
            return Ok(Factor::Token);
        }
    }
    if registered.app {
        Ok(Factor::Totp)
    } else {
        Err(Error::ChallengeInvalid)
    }
}

#[cfg(test)]
mod tests;
