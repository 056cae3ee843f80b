//! The one domain error enum. Every error a client can see has a stable snake_case name, a stable
//! code (`SKS-…`) that a support desk can look up, and a message in Japanese and English. The
//! server maps [`ErrorKind`] to an HTTP status in one place.

use crate::lang::Lang;

/// What kind of failure an error is; the server turns this into an HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The request itself is malformed or fails validation (400).
    BadRequest,
    /// The body is larger than allowed (413).
    PayloadTooLarge,
    /// The body is not JSON (415).
    UnsupportedMediaType,
    /// No credentials, or credentials that do not check out (401).
    Unauthorized,
    /// Authenticated, but not allowed or not able to proceed (403).
    Forbidden,
    /// The addressed thing does not exist (404).
    NotFound,
    /// The HTTP method is not supported on this path (405).
    MethodNotAllowed,
    /// The change conflicts with what is stored (409).
    Conflict,
    /// Too many requests right now (429).
    TooManyRequests,
    /// The server cannot take the request right now (503).
    Unavailable,
    /// A fault on the server side (500); details go to the log, never to the client.
    Internal,
}

/// Why a password is refused by the password policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyViolation {
    /// Shorter than the minimum length (in characters).
    TooShort {
        /// The minimum length that applies to this login.
        min: usize,
    },
    /// Longer than the maximum length (in characters).
    TooLong {
        /// The maximum length.
        max: usize,
    },
    /// Letters and digits must both appear (jp-broker).
    Composition,
    /// Characters outside the allowed set (jp-broker: half-width ASCII; control characters everywhere).
    InvalidCharacters,
    /// Equal to, or contains, the login ID.
    ContainsLoginId,
    /// One of the last passwords of this login.
    Reused {
        /// How many previous passwords are remembered.
        generations: usize,
    },
    /// On the list of commonly used passwords.
    Common,
}

impl PolicyViolation {
    fn code(&self) -> &'static str {
        match self {
            PolicyViolation::TooShort { .. } => "SKS-PWD-0001",
            PolicyViolation::TooLong { .. } => "SKS-PWD-0002",
            PolicyViolation::Composition => "SKS-PWD-0003",
            PolicyViolation::InvalidCharacters => "SKS-PWD-0004",
            PolicyViolation::ContainsLoginId => "SKS-PWD-0005",
            PolicyViolation::Reused { .. } => "SKS-PWD-0006",
            PolicyViolation::Common => "SKS-PWD-0007",
        }
    }

    fn name(&self) -> &'static str {
        match self {
            PolicyViolation::TooShort { .. } => "password_too_short",
            PolicyViolation::TooLong { .. } => "password_too_long",
            PolicyViolation::Composition => "password_composition",
            PolicyViolation::InvalidCharacters => "password_invalid_characters",
            PolicyViolation::ContainsLoginId => "password_contains_login_id",
            PolicyViolation::Reused { .. } => "password_reused",
            PolicyViolation::Common => "password_common",
        }
    }

    fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (PolicyViolation::TooShort { min }, Lang::Ja) => {
                format!("パスワードは{min}文字以上で設定してください。")
            }
            (PolicyViolation::TooShort { min }, Lang::En) => {
                format!("The password must be at least {min} characters long.")
            }
            (PolicyViolation::TooLong { max }, Lang::Ja) => {
                format!("パスワードは{max}文字以下で設定してください。")
            }
            (PolicyViolation::TooLong { max }, Lang::En) => {
                format!("The password must be at most {max} characters long.")
            }
            (PolicyViolation::Composition, Lang::Ja) => {
                "パスワードには英字と数字を混在させてください。".into()
            }
            (PolicyViolation::Composition, Lang::En) => {
                "The password must contain both letters and digits.".into()
            }
            (PolicyViolation::InvalidCharacters, Lang::Ja) => {
                "パスワードに使用できない文字が含まれています。半角英数字と記号を使用してください。"
                    .into()
            }
            (PolicyViolation::InvalidCharacters, Lang::En) => {
                "The password contains characters that are not allowed. Use half-width letters, digits and symbols.".into()
            }
            (PolicyViolation::ContainsLoginId, Lang::Ja) => {
                "パスワードにログインIDと同じ文字列は使用できません。".into()
            }
            (PolicyViolation::ContainsLoginId, Lang::En) => {
                "The password must not be or contain the login ID.".into()
            }
            (PolicyViolation::Reused { generations }, Lang::Ja) => {
                format!("直近{generations}世代前までに設定したパスワードは使用できません。")
            }
            (PolicyViolation::Reused { generations }, Lang::En) => {
                format!("The password must differ from the last {generations} passwords.")
            }
            (PolicyViolation::Common, Lang::Ja) => {
                "このパスワードは広く使われているため使用できません。推測されにくいパスワードを設定してください。".into()
            }
            (PolicyViolation::Common, Lang::En) => {
                "This password is commonly used and cannot be chosen. Pick one that is harder to guess.".into()
            }
        }
    }
}

/// Every error Sekisho reports, from input validation to login outcomes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The request is malformed; the detail says what (in English, for developers).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// The body exceeds the size limit.
    #[error("payload too large")]
    PayloadTooLarge,
    /// The body is not `application/json`.
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// No such path.
    #[error("not found")]
    NotFound,
    /// The path does not support this method.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// A server-side fault; the cause is logged, not shown.
    #[error("internal error")]
    Internal,
    /// Too many password checks are waiting; try again shortly.
    #[error("server busy")]
    Busy,
    /// Missing or unknown bearer token.
    #[error("unauthorized")]
    Unauthorized,
    /// The API token lacks the scope this endpoint needs.
    #[error("insufficient scope")]
    InsufficientScope,
    /// The session token is unknown, expired or revoked.
    #[error("session invalid")]
    SessionInvalid,
    /// Unknown login ID or wrong password (deliberately indistinguishable).
    #[error("invalid credentials")]
    InvalidCredentials,
    /// Locked after consecutive password failures; an operator must unlock it.
    #[error("login locked")]
    LoginLocked,
    /// Disabled by an operator.
    #[error("login disabled")]
    LoginDisabled,
    /// The password must be changed before the login can proceed.
    #[error("password change required")]
    PasswordChangeRequired,
    /// A second factor is mandatory for this login but none is registered yet.
    #[error("second factor not initialized")]
    SecondFactorNotInitialized,
    /// The password was right; a second factor must follow.
    #[error("second factor required")]
    SecondFactorRequired,
    /// The one-time code is wrong, expired or already used.
    #[error("second factor invalid")]
    SecondFactorInvalid,
    /// Locked after consecutive wrong codes; an operator must unlock it.
    #[error("second factor locked")]
    SecondFactorLocked,
    /// The login challenge is unknown, expired or already used.
    #[error("challenge invalid")]
    ChallengeInvalid,
    /// The e-mail code is wrong; the customer may enter it again.
    #[error("email code invalid")]
    EmailCodeInvalid,
    /// The e-mail code has expired; log in again or have a new one sent.
    #[error("email code expired")]
    EmailCodeExpired,
    /// The e-mail code no longer works after too many wrong tries; log in again or re-issue.
    #[error("email code exhausted")]
    EmailCodeExhausted,
    /// A new code was sent too recently; wait before asking again.
    #[error("email code resend too soon")]
    EmailCodeResendTooSoon,
    /// No more codes for this login attempt; log in again.
    #[error("email code resend limit")]
    EmailCodeResendLimit,
    /// The confirmation code for a new delivery address is wrong, expired or used up.
    #[error("confirmation code invalid")]
    ConfirmationCodeInvalid,
    /// The recovery code is wrong or already used, or the login has none left.
    #[error("recovery code invalid")]
    RecoveryCodeInvalid,
    /// The passkey's answer could not be verified (signature, origin, user verification, or a
    /// passkey this login does not have).
    #[error("passkey invalid")]
    PasskeyInvalid,
    /// The passkey ceremony is unknown, expired or already finished.
    #[error("passkey ceremony invalid")]
    PasskeyCeremonyInvalid,
    /// No passkey with this ID belongs to the login.
    #[error("passkey not found")]
    PasskeyNotFound,
    /// The passkey's signature counter went backwards (a possible clone): it is flagged and
    /// refused until it is removed.
    #[error("passkey counter regressed")]
    PasskeyCounterRegressed,
    /// The firm requires a passkey for this login; a code is not enough.
    #[error("passkey required")]
    PasskeyRequired,
    /// An active factor of this method exists.
    #[error("factor already registered")]
    FactorAlreadyRegistered,
    /// No factor of this method is registered.
    #[error("factor not registered")]
    FactorNotRegistered,
    /// The pending enrolment expired before it was confirmed.
    #[error("enrolment expired")]
    EnrolmentExpired,
    /// The current password given for a change is wrong.
    #[error("current password invalid")]
    CurrentPasswordInvalid,
    /// The firm asks for the trading password for this operation and none was given.
    #[error("trading password required")]
    TradingPasswordRequired,
    /// The trading password given is wrong.
    #[error("trading password invalid")]
    TradingPasswordInvalid,
    /// A trading password may not be the same as the login password.
    #[error("trading password same as login password")]
    TradingPasswordSameAsLogin,
    /// The new password breaks the policy.
    #[error("password policy: {0:?}")]
    PasswordPolicy(PolicyViolation),
    /// The login ID breaks the login ID rules.
    #[error("invalid login id")]
    InvalidLoginId,
    /// The e-mail address is not a valid address.
    #[error("invalid email")]
    InvalidEmail,
    /// The display name is empty, too long or has control characters.
    #[error("invalid display name")]
    InvalidDisplayName,
    /// A login with this ID already exists.
    #[error("login exists")]
    LoginExists,
    /// No login with this ID.
    #[error("login not found")]
    LoginNotFound,
    /// No API token with this ID.
    #[error("api token not found")]
    ApiTokenNotFound,
    /// No familiar browser with this ID (for this login).
    #[error("device not found")]
    DeviceNotFound,
    /// No hardware/software token with this token ID in the inventory.
    #[error("token not found")]
    TokenNotFound,
    /// The token's state does not allow this change (e.g. assigning a revoked token).
    #[error("token state conflict")]
    TokenStateConflict,
    /// The login already has as many tokens as allowed.
    #[error("login has a token")]
    LoginHasToken,
    /// The seed file cannot be read as a whole; the detail says why.
    #[error("token file invalid: {0}")]
    TokenFileInvalid(String),
    /// The seed file's key or passphrase is missing, wrong, or not how the file is protected.
    #[error("token file key: {0}")]
    TokenFileKey(String),
    /// Some entries of the seed file cannot be imported, so nothing was (the report says which).
    #[error("token import rejected")]
    TokenImportRejected,
    /// The seed file holds no key package that can be imported; the detail says why.
    #[error("token file has no usable key package: {0}")]
    TokenFileNoKeys(String),
    /// The token is outside the validity period its seed file gave it (PSKC `StartDate` /
    /// `ExpiryDate`), so it can neither be assigned nor log in.
    #[error("token expired")]
    TokenExpired,
    /// OTP1 and OTP2 are codes of the token but not two in a row.
    #[error("token codes not consecutive")]
    TokenCodesNotConsecutive,
    /// OTP1 and OTP2 (or the second of them) were already used.
    #[error("token code used")]
    TokenCodeUsed,
    /// OTP1 and OTP2 are an old pair: more than 30 s passed since OTP2 was shown.
    #[error("token code expired")]
    TokenCodeExpired,
    /// The token ID is unknown, revoked, locked, or not available to this login.
    #[error("token id invalid")]
    TokenIdInvalid,
    /// The login has no registered token to resynchronise.
    #[error("token not registered")]
    TokenNotRegistered,
    /// The caller is an operator whose role (`support`) does not allow this operation.
    #[error("admin role required")]
    AdminRoleRequired,
    /// No operator with this name.
    #[error("operator not found")]
    OperatorNotFound,
    /// An operator with this name exists.
    #[error("operator exists")]
    OperatorExists,
    /// The operator setup link is unknown, expired, or already used.
    #[error("operator setup invalid")]
    OperatorSetupInvalid,
    /// An operator name must be 1–64 of `a-z 0-9 . _ -`.
    #[error("invalid operator name")]
    InvalidOperatorName,
    /// The change would leave no active administrator.
    #[error("last admin")]
    LastAdmin,
    /// A hosted-page form arrived without its form token (CSRF) or with a stale one.
    #[error("form expired")]
    FormExpired,
    /// Too many form submissions from one address or for one login in a short time.
    #[error("too many attempts")]
    TooManyAttempts,
    /// The `return_to` address is not on the firm's allow-list.
    #[error("return_to not allowed")]
    ReturnToNotAllowed,
    /// The login in progress on the hosted pages is unknown or has expired.
    #[error("login flow expired")]
    LoginFlowExpired,
    /// The setup link is unknown, used, replaced by a newer one, or expired.
    #[error("setup link invalid")]
    SetupLinkInvalid,
    /// No step-up request with this ID (for this app).
    #[error("step-up not found")]
    StepUpNotFound,
    /// The step-up request expired before the customer answered.
    #[error("step-up expired")]
    StepUpExpired,
    /// The step-up request was already confirmed or refused.
    #[error("step-up finished")]
    StepUpFinished,
    /// The step-up request belongs to another login than the one signed in.
    #[error("step-up other login")]
    StepUpOtherLogin,
    /// The login has no second factor that may confirm this operation.
    #[error("step-up no method")]
    StepUpNoMethod,
    /// Only a passkey confirms this kind of operation, and none was offered (or none is
    /// registered).
    #[error("step-up passkey required")]
    StepUpPasskeyRequired,
}

impl Error {
    /// The stable snake_case name, the `error` field of the JSON body.
    pub fn name(&self) -> &'static str {
        match self {
            Error::InvalidRequest(_) => "invalid_request",
            Error::PayloadTooLarge => "payload_too_large",
            Error::UnsupportedMediaType => "unsupported_media_type",
            Error::NotFound => "not_found",
            Error::MethodNotAllowed => "method_not_allowed",
            Error::Internal => "internal_error",
            Error::Busy => "server_busy",
            Error::Unauthorized => "unauthorized",
            Error::InsufficientScope => "insufficient_scope",
            Error::SessionInvalid => "session_invalid",
            Error::InvalidCredentials => "invalid_credentials",
            Error::LoginLocked => "login_locked",
            Error::LoginDisabled => "login_disabled",
            Error::PasswordChangeRequired => "password_change_required",
            Error::SecondFactorNotInitialized => "second_factor_not_initialized",
            Error::SecondFactorRequired => "second_factor_required",
            Error::SecondFactorInvalid => "second_factor_invalid",
            Error::SecondFactorLocked => "second_factor_locked",
            Error::ChallengeInvalid => "challenge_invalid",
            Error::EmailCodeInvalid => "email_code_invalid",
            Error::EmailCodeExpired => "email_code_expired",
            Error::EmailCodeExhausted => "email_code_exhausted",
            Error::EmailCodeResendTooSoon => "email_code_resend_too_soon",
            Error::EmailCodeResendLimit => "email_code_resend_limit",
            Error::ConfirmationCodeInvalid => "confirmation_code_invalid",
            Error::RecoveryCodeInvalid => "recovery_code_invalid",
            Error::PasskeyInvalid => "passkey_invalid",
            Error::PasskeyCeremonyInvalid => "passkey_ceremony_invalid",
            Error::PasskeyNotFound => "passkey_not_found",
            Error::PasskeyCounterRegressed => "passkey_counter_regressed",
            Error::PasskeyRequired => "passkey_required",
            Error::FactorAlreadyRegistered => "second_factor_already_registered",
            Error::FactorNotRegistered => "second_factor_not_registered",
            Error::EnrolmentExpired => "enrolment_expired",
            Error::CurrentPasswordInvalid => "current_password_invalid",
            Error::TradingPasswordRequired => "trading_password_required",
            Error::TradingPasswordInvalid => "trading_password_invalid",
            Error::TradingPasswordSameAsLogin => "trading_password_same_as_login",
            Error::PasswordPolicy(v) => v.name(),
            Error::InvalidLoginId => "invalid_login_id",
            Error::InvalidEmail => "invalid_email",
            Error::InvalidDisplayName => "invalid_display_name",
            Error::LoginExists => "login_exists",
            Error::LoginNotFound => "login_not_found",
            Error::ApiTokenNotFound => "api_token_not_found",
            Error::DeviceNotFound => "device_not_found",
            Error::TokenNotFound => "token_not_found",
            Error::TokenStateConflict => "token_state_conflict",
            Error::LoginHasToken => "login_has_token",
            Error::TokenFileInvalid(_) => "token_file_invalid",
            Error::TokenFileKey(_) => "token_file_key",
            Error::TokenImportRejected => "token_import_rejected",
            Error::TokenFileNoKeys(_) => "token_file_no_keys",
            Error::TokenExpired => "token_expired",
            Error::TokenCodesNotConsecutive => "token_codes_not_consecutive",
            Error::TokenCodeUsed => "token_code_used",
            Error::TokenCodeExpired => "token_code_expired",
            Error::TokenIdInvalid => "token_id_invalid",
            Error::TokenNotRegistered => "token_not_registered",
            Error::AdminRoleRequired => "admin_role_required",
            Error::OperatorNotFound => "operator_not_found",
            Error::OperatorExists => "operator_exists",
            Error::OperatorSetupInvalid => "operator_setup_invalid",
            Error::InvalidOperatorName => "invalid_operator_name",
            Error::LastAdmin => "last_admin",
            Error::FormExpired => "form_expired",
            Error::TooManyAttempts => "too_many_attempts",
            Error::ReturnToNotAllowed => "return_to_not_allowed",
            Error::LoginFlowExpired => "login_flow_expired",
            Error::SetupLinkInvalid => "setup_link_invalid",
            Error::StepUpNotFound => "step_up_not_found",
            Error::StepUpExpired => "step_up_expired",
            Error::StepUpFinished => "step_up_finished",
            Error::StepUpOtherLogin => "step_up_other_login",
            Error::StepUpNoMethod => "step_up_no_method",
            Error::StepUpPasskeyRequired => "step_up_passkey_required",
        }
    }

    /// The stable code shown to users and recorded in the audit log.
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidRequest(_) => "SKS-GEN-0001",
            Error::PayloadTooLarge => "SKS-GEN-0002",
            Error::UnsupportedMediaType => "SKS-GEN-0003",
            Error::NotFound => "SKS-GEN-0004",
            Error::MethodNotAllowed => "SKS-GEN-0005",
            Error::Internal => "SKS-GEN-0006",
            Error::Busy => "SKS-GEN-0007",
            Error::Unauthorized => "SKS-AUT-0001",
            Error::InsufficientScope => "SKS-AUT-0002",
            Error::SessionInvalid => "SKS-AUT-0003",
            Error::InvalidCredentials => "SKS-LGN-0001",
            Error::LoginLocked => "SKS-LGN-0002",
            Error::LoginDisabled => "SKS-LGN-0003",
            Error::PasswordChangeRequired => "SKS-LGN-0004",
            Error::SecondFactorNotInitialized => "SKS-LGN-0005",
            Error::SecondFactorRequired => "SKS-LGN-0006",
            Error::SecondFactorInvalid => "SKS-LGN-0007",
            Error::SecondFactorLocked => "SKS-LGN-0008",
            Error::ChallengeInvalid => "SKS-LGN-0009",
            Error::EmailCodeInvalid => "SKS-LGN-0010",
            Error::EmailCodeExpired => "SKS-LGN-0011",
            Error::EmailCodeExhausted => "SKS-LGN-0012",
            Error::EmailCodeResendTooSoon => "SKS-LGN-0013",
            Error::EmailCodeResendLimit => "SKS-LGN-0014",
            Error::ConfirmationCodeInvalid => "SKS-ACC-0006",
            Error::RecoveryCodeInvalid => "SKS-LGN-0015",
            Error::PasskeyInvalid => "SKS-PKY-0001",
            Error::PasskeyCeremonyInvalid => "SKS-PKY-0002",
            Error::PasskeyNotFound => "SKS-PKY-0003",
            Error::PasskeyCounterRegressed => "SKS-PKY-0004",
            Error::PasskeyRequired => "SKS-PKY-0005",
            Error::FactorAlreadyRegistered => "SKS-FAC-0001",
            Error::FactorNotRegistered => "SKS-FAC-0002",
            Error::EnrolmentExpired => "SKS-FAC-0003",
            Error::CurrentPasswordInvalid => "SKS-PWD-0008",
            Error::TradingPasswordRequired => "SKS-PWD-0009",
            Error::TradingPasswordInvalid => "SKS-PWD-0010",
            Error::TradingPasswordSameAsLogin => "SKS-PWD-0011",
            Error::PasswordPolicy(v) => v.code(),
            Error::InvalidLoginId => "SKS-ACC-0001",
            Error::InvalidEmail => "SKS-ACC-0002",
            Error::InvalidDisplayName => "SKS-ACC-0003",
            Error::LoginExists => "SKS-ACC-0004",
            Error::LoginNotFound => "SKS-ACC-0005",
            Error::ApiTokenNotFound => "SKS-TOK-0001",
            Error::DeviceNotFound => "SKS-DEV-0001",
            Error::TokenNotFound => "SKS-HWT-0001",
            Error::TokenStateConflict => "SKS-HWT-0002",
            Error::LoginHasToken => "SKS-HWT-0003",
            Error::TokenFileInvalid(_) => "SKS-HWT-0004",
            Error::TokenFileKey(_) => "SKS-HWT-0005",
            Error::TokenImportRejected => "SKS-HWT-0006",
            Error::TokenFileNoKeys(_) => "SKS-HWT-0007",
            Error::TokenExpired => "SKS-HWT-0008",
            Error::TokenCodesNotConsecutive => "SKS-HWT-0010",
            Error::TokenCodeUsed => "SKS-HWT-0011",
            Error::TokenCodeExpired => "SKS-HWT-0012",
            Error::TokenIdInvalid => "SKS-HWT-0013",
            Error::TokenNotRegistered => "SKS-HWT-0014",
            Error::AdminRoleRequired => "SKS-OPR-0001",
            Error::OperatorNotFound => "SKS-OPR-0002",
            Error::OperatorExists => "SKS-OPR-0003",
            Error::OperatorSetupInvalid => "SKS-OPR-0004",
            Error::InvalidOperatorName => "SKS-OPR-0005",
            Error::LastAdmin => "SKS-OPR-0006",
            Error::FormExpired => "SKS-WEB-0001",
            Error::TooManyAttempts => "SKS-WEB-0002",
            Error::ReturnToNotAllowed => "SKS-WEB-0003",
            Error::LoginFlowExpired => "SKS-WEB-0004",
            Error::SetupLinkInvalid => "SKS-WEB-0005",
            Error::StepUpNotFound => "SKS-STP-0001",
            Error::StepUpExpired => "SKS-STP-0002",
            Error::StepUpFinished => "SKS-STP-0003",
            Error::StepUpOtherLogin => "SKS-STP-0004",
            Error::StepUpNoMethod => "SKS-STP-0005",
            Error::StepUpPasskeyRequired => "SKS-STP-0006",
        }
    }

    /// The kind, which fixes the HTTP status.
    pub fn kind(&self) -> ErrorKind {
        use ErrorKind as K;
        match self {
            Error::InvalidRequest(_)
            | Error::PasswordPolicy(_)
            | Error::InvalidLoginId
            | Error::InvalidEmail
            | Error::InvalidDisplayName
            | Error::TradingPasswordSameAsLogin
            | Error::EnrolmentExpired
            | Error::ConfirmationCodeInvalid
            | Error::TokenFileInvalid(_)
            | Error::TokenFileKey(_)
            | Error::TokenImportRejected
            | Error::TokenFileNoKeys(_)
            | Error::InvalidOperatorName
            | Error::ReturnToNotAllowed => K::BadRequest,
            Error::PayloadTooLarge => K::PayloadTooLarge,
            Error::UnsupportedMediaType => K::UnsupportedMediaType,
            Error::NotFound
            | Error::LoginNotFound
            | Error::ApiTokenNotFound
            | Error::DeviceNotFound
            | Error::FactorNotRegistered
            | Error::TokenNotFound
            | Error::TokenNotRegistered
            | Error::OperatorNotFound
            | Error::SetupLinkInvalid
            | Error::StepUpNotFound
            | Error::PasskeyNotFound => K::NotFound,
            Error::MethodNotAllowed => K::MethodNotAllowed,
            Error::Internal => K::Internal,
            Error::Busy => K::Unavailable,
            Error::Unauthorized
            | Error::SessionInvalid
            | Error::InvalidCredentials
            | Error::CurrentPasswordInvalid
            | Error::TradingPasswordRequired
            | Error::TradingPasswordInvalid
            | Error::SecondFactorRequired
            | Error::SecondFactorInvalid
            | Error::ChallengeInvalid
            | Error::EmailCodeInvalid
            | Error::EmailCodeExpired
            | Error::EmailCodeExhausted
            | Error::RecoveryCodeInvalid
            | Error::PasskeyInvalid
            | Error::PasskeyCeremonyInvalid
            | Error::TokenCodesNotConsecutive
            | Error::TokenCodeUsed
            | Error::TokenCodeExpired
            | Error::TokenIdInvalid
            | Error::OperatorSetupInvalid
            | Error::LoginFlowExpired => K::Unauthorized,
            Error::EmailCodeResendTooSoon
            | Error::EmailCodeResendLimit
            | Error::TooManyAttempts => K::TooManyRequests,
            Error::InsufficientScope
            | Error::LoginLocked
            | Error::LoginDisabled
            | Error::PasswordChangeRequired
            | Error::SecondFactorNotInitialized
            | Error::SecondFactorLocked
            | Error::TokenExpired
            | Error::PasskeyCounterRegressed
            | Error::PasskeyRequired
            | Error::AdminRoleRequired
            | Error::FormExpired
            | Error::StepUpExpired
            | Error::StepUpOtherLogin
            | Error::StepUpNoMethod
            | Error::StepUpPasskeyRequired => K::Forbidden,
            Error::LoginExists
            | Error::FactorAlreadyRegistered
            | Error::TokenStateConflict
            | Error::LoginHasToken
            | Error::OperatorExists
            | Error::LastAdmin
            | Error::StepUpFinished => K::Conflict,
        }
    }

    /// The message for the user, in `lang`.
    pub fn message(&self, lang: Lang) -> String {
        let (ja, en): (&str, &str) = match self {
            Error::PasswordPolicy(v) => return v.message(lang),
            Error::InvalidRequest(_) => (
                "リクエストの形式が正しくありません。",
                "The request is malformed.",
            ),
            Error::PayloadTooLarge => ("リクエストが大きすぎます。", "The request body is too large."),
            Error::UnsupportedMediaType => (
                "リクエストは application/json で送信してください。",
                "Send the request body as application/json.",
            ),
            Error::NotFound => ("指定されたURLは存在しません。", "There is nothing at this URL."),
            Error::MethodNotAllowed => (
                "このURLではその操作はできません。",
                "This method is not allowed at this URL.",
            ),
            Error::Internal => (
                "システムエラーが発生しました。しばらくしてから再度お試しください。",
                "A system error occurred. Please try again later.",
            ),
            Error::Busy => (
                "ただいま混み合っています。しばらくしてから再度お試しください。",
                "The service is busy. Please try again shortly.",
            ),
            Error::Unauthorized => (
                "認証情報がないか、正しくありません。",
                "Authentication is missing or invalid.",
            ),
            Error::InsufficientScope => (
                "この操作を行う権限がありません。",
                "This credential is not allowed to perform this operation.",
            ),
            Error::SessionInvalid => (
                "セッションの有効期限が切れたか、ログアウトされています。再度ログインしてください。",
                "Your session has expired or was ended. Please log in again.",
            ),
            Error::InvalidCredentials => (
                "ログインIDもしくはパスワードに誤りがあります。所定回数連続して誤るとロックされます。",
                "The login ID or password is incorrect. Repeated failures lock the login.",
            ),
            Error::LoginLocked => (
                "パスワードを所定回数連続して誤ったため、ログインがロックされています。サポートデスクにロック解除をご依頼ください。",
                "The login is locked after repeated password failures. Please ask the support desk to unlock it.",
            ),
            Error::LoginDisabled => (
                "このログインIDは利用停止されています。サポートデスクにお問い合わせください。",
                "This login has been disabled. Please contact the support desk.",
            ),
            Error::PasswordChangeRequired => (
                "パスワードの変更が必要です。新しいパスワードを設定してください。",
                "You must change your password before continuing.",
            ),
            Error::SecondFactorNotInitialized => (
                "二段階認証の登録が必要です。登録を完了してから再度ログインしてください。",
                "Second factor authentication must be initialized before you can log in.",
            ),
            Error::SecondFactorRequired => (
                "ワンタイムパスワードを入力してください。",
                "Enter your one-time password to complete the login.",
            ),
            Error::SecondFactorInvalid => (
                "ワンタイムパスワードに誤りがあるか、有効期限切れか、既に使用されています。最新のワンタイムパスワードを入力してください。",
                "The one-time password is wrong, expired or already used. Enter the current one.",
            ),
            Error::SecondFactorLocked => (
                "ワンタイムパスワードを所定回数連続して誤ったため、ロックされています。サポートデスクにロック解除をご依頼ください。",
                "The second factor is locked after repeated wrong one-time passwords. Please ask the support desk to unlock it.",
            ),
            Error::ChallengeInvalid => (
                "ログインの有効期限が切れたか、既に完了しています。最初からログインしてください。",
                "This login attempt has expired or was already completed. Please log in again.",
            ),
            Error::EmailCodeInvalid => (
                "認証コードに誤りがあります。再度ご入力ください。",
                "The verification code is wrong. Please enter it again.",
            ),
            Error::EmailCodeExpired => (
                "認証コードの有効期限が切れています。再度、お手続きをやり直してください。再度ログインいただくか、「認証コード再発行」で新しいコードをお受け取りください。",
                "The verification code has expired. Please log in again or have a new code sent.",
            ),
            Error::EmailCodeExhausted => (
                "無効な認証コードです。再度、お手続きをやり直してください。認証コードは所定の回数を超えて誤入力すると無効になります。再度ログインいただくか、「認証コード再発行」で新しいコードをお受け取りください。",
                "The verification code is no longer valid after too many wrong entries. Please log in again or have a new code sent.",
            ),
            Error::EmailCodeResendTooSoon => (
                "認証コードを送信したばかりです。しばらくしてから再発行してください。",
                "A code was sent a moment ago. Please wait a little before asking for a new one.",
            ),
            Error::EmailCodeResendLimit => (
                "認証コードの再発行回数の上限に達しました。最初からログインしてください。",
                "No more codes can be sent for this login. Please log in again.",
            ),
            Error::ConfirmationCodeInvalid => (
                "確認コードに誤りがあるか、有効期限が切れています。もう一度お手続きください。",
                "The confirmation code is wrong or has expired. Please start the change again.",
            ),
            Error::RecoveryCodeInvalid => (
                "リカバリーコードに誤りがあるか、既に使用されています。所定回数連続して誤るとロックされます。",
                "The recovery code is wrong or was already used. Repeated wrong codes lock it.",
            ),
            Error::PasskeyInvalid => (
                "パスキーによる認証を確認できませんでした。もう一度お試しください。",
                "The passkey could not be verified. Please try again.",
            ),
            Error::PasskeyCeremonyInvalid => (
                "パスキーの手続きの有効期限が切れたか、既に使用されています。最初からやり直してください。",
                "The passkey request has expired or was already used. Please start again.",
            ),
            Error::PasskeyNotFound => (
                "指定されたパスキーは登録されていません。",
                "No such passkey is registered.",
            ),
            Error::PasskeyCounterRegressed => (
                "このパスキーは複製された可能性があるため利用を停止しました。削除して新しいパスキーを登録するか、サポートデスクにお問い合わせください。",
                "This passkey may have been copied and has been suspended. Remove it and register a new one, or contact the support desk.",
            ),
            Error::PasskeyRequired => (
                "このログインにはパスキーによる認証が必要です。",
                "This login requires a passkey.",
            ),
            Error::FactorAlreadyRegistered => (
                "認証アプリは既に登録されています(利用中)。変更する場合は利用停止してからお申し込みください。",
                "An authenticator app is already registered. Stop using it before registering another.",
            ),
            Error::FactorNotRegistered => (
                "認証アプリは登録されていません(未登録)。",
                "No authenticator app is registered.",
            ),
            Error::EnrolmentExpired => (
                "登録の有効期限が切れました。もう一度お申し込みください。",
                "The registration has expired. Please start again.",
            ),
            Error::CurrentPasswordInvalid => (
                "現在のパスワードに誤りがあります。",
                "The current password is incorrect.",
            ),
            Error::TradingPasswordRequired => (
                "この操作には取引パスワードの入力が必要です。",
                "This operation requires your trading password.",
            ),
            Error::TradingPasswordInvalid => (
                "取引パスワードに誤りがあります。",
                "The trading password is incorrect.",
            ),
            Error::TradingPasswordSameAsLogin => (
                "取引パスワードにはログインパスワードと異なるものを設定してください。",
                "The trading password must differ from the login password.",
            ),
            Error::InvalidLoginId => (
                "ログインIDは4〜64文字の半角英数字と記号 . _ - @ で指定してください(先頭は英数字)。",
                "A login ID is 4 to 64 characters: letters, digits and . _ - @, starting with a letter or digit.",
            ),
            Error::InvalidEmail => (
                "メールアドレスの形式が正しくありません。",
                "The e-mail address is not valid.",
            ),
            Error::InvalidDisplayName => (
                "表示名は1〜100文字で、制御文字を含めずに指定してください。",
                "The display name must be 1 to 100 characters without control characters.",
            ),
            Error::LoginExists => (
                "このログインIDは既に登録されています。",
                "A login with this ID already exists.",
            ),
            Error::LoginNotFound => (
                "指定されたログインIDは存在しません。",
                "No login with this ID exists.",
            ),
            Error::ApiTokenNotFound => (
                "指定されたAPIトークンは存在しません。",
                "No API token with this ID exists.",
            ),
            Error::DeviceNotFound => (
                "指定された端末(普段ご利用の環境)は登録されていません。",
                "No familiar browser with this ID is registered.",
            ),
            Error::TokenNotFound => (
                "指定されたトークンIDは登録されていません。",
                "No token with this token ID is in the inventory.",
            ),
            Error::TokenStateConflict => (
                "このトークンは現在の状態(在庫・割当済・失効)ではこの操作ができません。",
                "The token's current state (in stock, assigned, revoked) does not allow this operation.",
            ),
            Error::LoginHasToken => (
                "このログインIDには既にトークンが登録されています。",
                "This login already has a token.",
            ),
            Error::TokenFileInvalid(_) => (
                "トークンファイルを読み込めません。",
                "The token file cannot be read.",
            ),
            Error::TokenFileKey(_) => (
                "トークンファイルの復号鍵またはパスフレーズが必要か、正しくありません。",
                "The token file needs a key or passphrase, or the one given is wrong.",
            ),
            Error::TokenImportRejected => (
                "取り込めないトークンがあるため、ファイル全体を取り込みませんでした。",
                "Some tokens in the file cannot be imported, so none were.",
            ),
            Error::TokenFileNoKeys(_) => (
                "トークンファイルに取り込めるキーパッケージがありません。",
                "The token file holds no key package that can be imported.",
            ),
            Error::TokenExpired => (
                "このトークンは有効期間外のため利用できません。サポートデスクにお問い合わせください。",
                "This token is outside its validity period and cannot be used. Please contact the support desk.",
            ),
            Error::TokenCodesNotConsecutive => (
                "OTP1、OTP2には連続して生成されたワンタイムパスワードを入力してください。OTP1、OTP2ともに再入力をお願いいたします。",
                "Enter two one-time passwords generated one after the other as OTP1 and OTP2. Please enter both again.",
            ),
            Error::TokenCodeUsed => (
                "入力されたワンタイムパスワードは使用済みです。新たに生成されたOTP1、OTP2を入力してください。",
                "These one-time passwords were already used. Enter two newly generated ones as OTP1 and OTP2.",
            ),
            Error::TokenCodeExpired => (
                "入力されたワンタイムパスワードは有効期限切れです。OTP2は生成後30秒以内に入力してください。最新のOTP1、OTP2を入力してください。",
                "These one-time passwords have expired: OTP2 must be entered within 30 seconds of being shown. Enter the latest OTP1 and OTP2.",
            ),
            Error::TokenIdInvalid => (
                "トークンIDに誤りがあるか、このトークンは利用できません。トークンID(クレデンシャルID)をご確認ください。",
                "The token ID is wrong or this token cannot be used. Check the token (credential) ID.",
            ),
            Error::TokenNotRegistered => (
                "ワンタイムパスワードのトークンが登録されていません。利用開始登録を行ってください。",
                "No token is registered. Please complete the start-of-use registration first.",
            ),
            Error::AdminRoleRequired => (
                "この操作は管理者(admin)のオペレーターのみ行えます。",
                "Only an operator with the admin role can do this.",
            ),
            Error::OperatorNotFound => (
                "指定されたオペレーターは存在しません。",
                "There is no operator with this name.",
            ),
            Error::OperatorExists => (
                "このオペレーター名は既に使われています。",
                "An operator with this name already exists.",
            ),
            Error::OperatorSetupInvalid => (
                "この設定用URLは無効です(期限切れまたは使用済み)。管理者に再発行を依頼してください。",
                "This setup link is invalid, expired or already used. Ask an administrator for a new one.",
            ),
            Error::InvalidOperatorName => (
                "オペレーター名は半角英小文字・数字・「.」「_」「-」の1〜64文字で指定してください。",
                "An operator name is 1 to 64 characters of a-z, 0-9, '.', '_' and '-'.",
            ),
            Error::LastAdmin => (
                "有効な管理者が他にいないため、この変更はできません。",
                "This change would leave no active administrator.",
            ),
            Error::FormExpired => (
                "画面の有効期限が切れました。お手数ですが、もう一度操作してください。",
                "This page has expired. Please try again.",
            ),
            Error::TooManyAttempts => (
                "短時間に操作が繰り返されました。しばらく時間をおいてから、もう一度お試しください。",
                "Too many attempts in a short time. Please wait a while and try again.",
            ),
            Error::ReturnToNotAllowed => (
                "ログイン後の戻り先が許可されていません。ご利用のサービスの画面からもう一度お試しください。",
                "The address to return to after login is not allowed. Please start again from the service you were using.",
            ),
            Error::LoginFlowExpired => (
                "ログインの有効期限が切れました。最初からログインしてください。",
                "Your login has expired. Please log in again from the start.",
            ),
            Error::SetupLinkInvalid => (
                "このリンクは使用済みか、有効期限が切れています。お手数ですが、下記のお問い合わせ先へご連絡のうえ、新しいリンクの発行をご依頼ください。",
                "This link has already been used or has expired. Please contact us (see below) and ask for a new link.",
            ),
            Error::StepUpNotFound => (
                "このお手続きの確認依頼は見つかりません。ご利用のサービスの画面からもう一度お手続きください。",
                "This confirmation request cannot be found. Please start the operation again from the service you were using.",
            ),
            Error::StepUpExpired => (
                "このお手続きの確認期限が切れました。ご利用のサービスの画面からもう一度お手続きください。",
                "The time to confirm this operation has passed. Please start the operation again from the service you were using.",
            ),
            Error::StepUpFinished => (
                "このお手続きの確認は既に完了しているか、取り消されています。",
                "This operation has already been confirmed or cancelled.",
            ),
            Error::StepUpOtherLogin => (
                "このお手続きは、現在ログイン中のログインIDのものではありません。お手続きをしたログインIDでログインし直してください。",
                "This operation belongs to another login ID than the one you are logged in with. Please log in with the login ID that started it.",
            ),
            Error::StepUpNoMethod => (
                "このお手続きを確認できる二段階認証(認証アプリ・トークン)が登録されていません。登録してからもう一度お手続きください。",
                "No second factor (authenticator app or token) that can confirm this operation is registered. Please register one and start again.",
            ),
            Error::StepUpPasskeyRequired => (
                "このお手続きはパスキーでのみ確認できます。「セキュリティ設定」の「パスキーの管理」でパスキーを登録してから、もう一度お手続きください。",
                "This operation can only be confirmed with a passkey. Register one under Security settings → Passkeys, then start the operation again.",
            ),
        };
        match lang {
            Lang::Ja => ja.to_owned(),
            Lang::En => en.to_owned(),
        }
    }

    /// A developer-facing detail (only for malformed requests).
    pub fn detail(&self) -> Option<&str> {
        match self {
            Error::InvalidRequest(d)
            | Error::TokenFileInvalid(d)
            | Error::TokenFileKey(d)
            | Error::TokenFileNoKeys(d)
                if !d.is_empty() =>
            {
                Some(d)
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_well_formed() {
        let all = [
            Error::InvalidRequest(String::new()),
            Error::PayloadTooLarge,
            Error::UnsupportedMediaType,
            Error::NotFound,
            Error::MethodNotAllowed,
            Error::Internal,
            Error::Busy,
            Error::Unauthorized,
            Error::InsufficientScope,
            Error::SessionInvalid,
            Error::InvalidCredentials,
            Error::LoginLocked,
            Error::LoginDisabled,
            Error::PasswordChangeRequired,
            Error::SecondFactorNotInitialized,
            Error::SecondFactorRequired,
            Error::SecondFactorInvalid,
            Error::SecondFactorLocked,
            Error::ChallengeInvalid,
            Error::EmailCodeInvalid,
            Error::EmailCodeExpired,
            Error::EmailCodeExhausted,
            Error::EmailCodeResendTooSoon,
            Error::EmailCodeResendLimit,
            Error::ConfirmationCodeInvalid,
            Error::RecoveryCodeInvalid,
            Error::PasskeyInvalid,
            Error::PasskeyCeremonyInvalid,
            Error::PasskeyNotFound,
            Error::PasskeyCounterRegressed,
            Error::PasskeyRequired,
            Error::FactorAlreadyRegistered,
            Error::FactorNotRegistered,
            Error::EnrolmentExpired,
            Error::CurrentPasswordInvalid,
            Error::TradingPasswordRequired,
            Error::TradingPasswordInvalid,
            Error::TradingPasswordSameAsLogin,
            Error::PasswordPolicy(PolicyViolation::TooShort { min: 8 }),
            Error::PasswordPolicy(PolicyViolation::TooLong { max: 16 }),
            Error::PasswordPolicy(PolicyViolation::Composition),
            Error::PasswordPolicy(PolicyViolation::InvalidCharacters),
            Error::PasswordPolicy(PolicyViolation::ContainsLoginId),
            Error::PasswordPolicy(PolicyViolation::Reused { generations: 2 }),
            Error::PasswordPolicy(PolicyViolation::Common),
            Error::InvalidLoginId,
            Error::InvalidEmail,
            Error::InvalidDisplayName,
            Error::LoginExists,
            Error::LoginNotFound,
            Error::ApiTokenNotFound,
            Error::DeviceNotFound,
            Error::TokenNotFound,
            Error::TokenStateConflict,
            Error::LoginHasToken,
            Error::TokenFileInvalid(String::new()),
            Error::TokenFileKey(String::new()),
            Error::TokenImportRejected,
            Error::TokenFileNoKeys(String::new()),
            Error::TokenExpired,
            Error::TokenCodesNotConsecutive,
            Error::TokenCodeUsed,
            Error::TokenCodeExpired,
            Error::TokenIdInvalid,
            Error::TokenNotRegistered,
            Error::AdminRoleRequired,
            Error::OperatorNotFound,
            Error::OperatorExists,
            Error::OperatorSetupInvalid,
            Error::InvalidOperatorName,
            Error::LastAdmin,
            Error::FormExpired,
            Error::TooManyAttempts,
            Error::ReturnToNotAllowed,
            Error::LoginFlowExpired,
            Error::SetupLinkInvalid,
            Error::StepUpNotFound,
            Error::StepUpExpired,
            Error::StepUpFinished,
            Error::StepUpOtherLogin,
            Error::StepUpNoMethod,
            Error::StepUpPasskeyRequired,
        ];
        let mut codes = std::collections::HashSet::new();
        let mut names = std::collections::HashSet::new();
        for e in &all {
            assert!(codes.insert(e.code()), "duplicate code {}", e.code());
            assert!(names.insert(e.name()), "duplicate name {}", e.name());
            assert!(e.code().starts_with("SKS-") && e.code().len() == 12);
            assert!(!e.message(Lang::Ja).is_empty() && !e.message(Lang::En).is_empty());
            assert_ne!(e.message(Lang::Ja), e.message(Lang::En));
        }
    }
}
