//! Configuration: embedded defaults, then a TOML file (`--config`), then `SEKISHO_*` environment
//! variables, then command-line flags. Every key is listed in [`KEYS`], which also drives the
//! environment mapping and `sekisho config keys`; an unknown key anywhere is an error.

use anyhow::{anyhow, bail, Context, Result};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// One documented configuration key.
pub struct Key {
    /// Dotted path in the TOML file (`password.preset`).
    pub path: &'static str,
    /// `string`, `integer`, `bool` or `list` (of strings; comma-separated in the environment).
    pub kind: &'static str,
    /// Default as written in TOML.
    pub default: &'static str,
    /// What it does.
    pub doc: &'static str,
}

/// Every configuration key.
pub const KEYS: &[Key] = &[
    Key { path: "listen", kind: "string", default: "\"127.0.0.1:8080\"", doc: "Address and port the server listens on." },
    Key { path: "data_dir", kind: "string", default: "\"./sekisho-data\"", doc: "Folder for the embedded SQLite database, the generated master key and the mail outbox." },
    Key { path: "database_url", kind: "string", default: "SQLite in data_dir", doc: "`sqlite:///path/file.db` or `postgres://user@host/db`. Several instances may share one PostgreSQL database." },
    Key { path: "database_max_connections", kind: "integer", default: "10", doc: "Pool size on PostgreSQL. SQLite uses one writer and at most 3 readers (WAL has five reader slots), plus one connection on its own thread for code validation and one for WAL checkpoints." },
    Key { path: "database_sqlite_synchronous", kind: "string", default: "\"normal\"", doc: "SQLite only: `normal` (WAL; a commit is in the WAL file before any answer, so it survives a crash of the process, but the last commits can be lost in a power failure or OS crash) or `full` (the WAL is also flushed to the disk at every commit: survives power loss, each group commit waits for the disk)." },
    Key { path: "public_url", kind: "string", default: "\"http://<listen>\"", doc: "The URL customers and apps reach Sekisho at." },
    Key { path: "master_key", kind: "string", default: "unset", doc: "Master key for secrets at rest, 64 hex characters. Prefer `SEKISHO_MASTER_KEY` or `master_key_file`." },
    Key { path: "master_key_file", kind: "string", default: "\"<data_dir>/master.key\"", doc: "File holding the master key in hex. If neither this nor `master_key` is set, a key is generated in data_dir on first start (development only; production supplies its own, the same on every instance)." },
    Key { path: "log_format", kind: "string", default: "\"text\"", doc: "`text` or `json`." },
    Key { path: "log_level", kind: "string", default: "\"info\"", doc: "A tracing filter such as `info` or `sekisho=debug` (`RUST_LOG` overrides)." },
    Key { path: "trust_forwarded_for", kind: "bool", default: "false", doc: "Take the client IP from `X-Forwarded-For` (only behind a proxy you control)." },
    Key { path: "max_body_bytes", kind: "integer", default: "65536", doc: "Largest accepted request body; larger ones get `payload_too_large`." },
    Key { path: "api_token_cache_secs", kind: "integer", default: "5", doc: "How long an instance trusts an API token it has checked without reading it again (busy callers of `/api/v1/validate`). Revoking drops it at once on the instance that revokes; other instances honour it for at most this long. 0 reads every time." },
    Key { path: "password.preset", kind: "string", default: "\"jp-broker\"", doc: "`jp-broker` (8–16 letters and digits, last 2 refused, 90-day expiry, lock after 5) or `nist-800-63b-4` (≥15 alone / ≥8 with MFA, up to 64, blocklist, no expiry, lock after 100)." },
    Key { path: "password.min_length", kind: "integer", default: "preset", doc: "Minimum length when the password is the only factor." },
    Key { path: "password.min_length_with_mfa", kind: "integer", default: "preset", doc: "Minimum length when the login has a second factor." },
    Key { path: "password.max_length", kind: "integer", default: "preset", doc: "Maximum length." },
    Key { path: "password.history", kind: "integer", default: "preset", doc: "How many recent passwords (the current one included) may not be reused; 0 for none." },
    Key { path: "password.max_age_days", kind: "integer", default: "preset", doc: "Days until a password must be changed; 0 for never." },
    Key { path: "password.lockout_threshold", kind: "integer", default: "preset", doc: "Consecutive password failures that lock the login until an operator unlocks it." },
    Key { path: "password.argon2_memory_kib", kind: "integer", default: "19456", doc: "Argon2id memory cost (OWASP: 19 MiB)." },
    Key { path: "password.argon2_iterations", kind: "integer", default: "2", doc: "Argon2id passes." },
    Key { path: "password.argon2_parallelism", kind: "integer", default: "1", doc: "Argon2id lanes." },
    Key { path: "password.hash_concurrency", kind: "integer", default: "number of cores", doc: "Hashes computed at once; bounds CPU and memory (memory cost × this)." },
    Key { path: "password.hash_queue_limit", kind: "integer", default: "1024", doc: "Hashes allowed to wait; beyond it logins get `server_busy` (503)." },
    Key { path: "session.idle_timeout_secs", kind: "integer", default: "1800", doc: "A session unused this long ends." },
    Key { path: "session.absolute_timeout_secs", kind: "integer", default: "43200", doc: "A session ends this long after login." },
    Key { path: "session.password_change_timeout_secs", kind: "integer", default: "600", doc: "Lifetime of the restricted token for changing a temporary or expired password." },
    Key { path: "session.challenge_timeout_secs", kind: "integer", default: "300", doc: "How long a login may wait between the password and the second factor." },
    Key { path: "totp.issuer", kind: "string", default: "\"Sekisho\"", doc: "Issuer shown in authenticator apps (the firm or service name)." },
    Key { path: "totp.account_name", kind: "string", default: "\"{login_id}\"", doc: "Account name shown in authenticator apps; `{login_id}` is replaced by the login ID (e.g. `北洋証券オンラインサービス` as in the Hokuyo manual)." },
    Key { path: "totp.algorithm", kind: "string", default: "\"SHA1\"", doc: "`SHA1`, `SHA256` or `SHA512` for new enrolments. Some apps (Google Authenticator on some platforms) ignore anything but SHA1." },
    Key { path: "totp.digits", kind: "integer", default: "6", doc: "Code length for new enrolments (6–8; some apps ignore 8)." },
    Key { path: "totp.period", kind: "integer", default: "30", doc: "Seconds per code for new enrolments (some apps ignore anything but 30)." },
    Key { path: "totp.window", kind: "integer", default: "1", doc: "Steps accepted either side of the expected one (after the device's learnt drift)." },
    Key { path: "totp.enrolment_timeout_secs", kind: "integer", default: "600", doc: "How long an enrolment may stay unconfirmed." },
    Key { path: "totp.lockout_threshold", kind: "integer", default: "10", doc: "Consecutive wrong codes that lock the factor until an operator unlocks the login." },
    Key { path: "recovery.lockout_threshold", kind: "integer", default: "10", doc: "Consecutive wrong recovery codes that lock the login's recovery codes until an operator unlocks the login (or the customer generates a new set)." },
    Key { path: "trading_password.reauth", kind: "bool", default: "false", doc: "Ask for the trading password (取引パスワード) instead of the login password before sensitive changes such as registering an authenticator app, for logins that have one (operators set it with `PUT /api/admin/v1/logins/{login_id}/trading-password`, customers change it with `PUT /api/v1/me/trading-password`)." },
    Key { path: "email_code.digits", kind: "integer", default: "6", doc: "Length of the codes sent by e-mail at login (4–10)." },
    Key { path: "email_code.ttl_secs", kind: "integer", default: "300", doc: "How long an e-mail code is valid (JTG: 5 minutes)." },
    Key { path: "email_code.max_tries", kind: "integer", default: "5", doc: "Wrong tries a code allows; the one that reaches it invalidates the code (`email_code_exhausted`)." },
    Key { path: "email_code.resend_cooldown_secs", kind: "integer", default: "30", doc: "Wait between two re-issues of a login's code (`email_code_resend_too_soon`)." },
    Key { path: "email_code.max_resends", kind: "integer", default: "3", doc: "Re-issues per login attempt (`email_code_resend_limit`); with `max_tries` it bounds the guesses per password entry to max_tries × (1 + max_resends)." },
    Key { path: "email_code.login_timeout_secs", kind: "integer", default: "900", doc: "How long a login may wait for its e-mail code, re-issues included, before the password must be entered again." },
    Key { path: "devices.remember_days", kind: "integer", default: "30", doc: "How long a familiar browser (\"don't ask again on this browser\", `remember_device` at the second factor) may skip the second factor." },
    Key { path: "devices.allowed_methods", kind: "list", default: "[\"email\"]", doc: "Second-factor methods a familiar browser may skip: `email`, `totp` (comma-separated in the environment). The default follows Gungin: e-mail codes yes, authenticator apps no." },
    Key { path: "notify.login_default", kind: "bool", default: "false", doc: "Whether new logins get a mail at every successful login (ログイン通知); customers switch it with `PUT /api/v1/me/notifications`, operators with `PATCH /api/admin/v1/logins/{login_id}`." },
    Key { path: "mail.outbox_dir", kind: "string", default: "\"<data_dir>/outbox\"", doc: "Folder where outgoing mail is written as `.eml` files when no `mail.smtp_host` is set (created at start)." },
    Key { path: "mail.smtp_host", kind: "string", default: "unset", doc: "SMTP server to deliver mail through; unset writes mail to `mail.outbox_dir` instead." },
    Key { path: "mail.smtp_port", kind: "integer", default: "587 (465 with `tls`)", doc: "SMTP server port." },
    Key { path: "mail.smtp_tls", kind: "string", default: "\"starttls\"", doc: "`starttls` (required, refused if the server does not offer it), `tls` (implicit TLS from the first byte) or `none` (only for a relay on the same host)." },
    Key { path: "mail.smtp_username", kind: "string", default: "unset", doc: "User name for SMTP AUTH; unset sends without AUTH." },
    Key { path: "mail.smtp_password", kind: "string", default: "unset", doc: "Password for SMTP AUTH. Prefer `SEKISHO_MAIL_SMTP_PASSWORD`; it never appears in logs." },
    Key { path: "mail.smtp_pool_size", kind: "integer", default: "4", doc: "SMTP connections kept open and reused." },
    Key { path: "mail.timeout_secs", kind: "integer", default: "30", doc: "Longest time one delivery attempt may take (requests never wait for delivery)." },
    Key { path: "mail.from", kind: "string", default: "\"no-reply@sekisho.invalid\"", doc: "Sender address of every mail." },
    Key { path: "mail.firm_name", kind: "string", default: "\"Sekisho\"", doc: "The firm's name: sender display name, subject prefix and signature." },
    Key { path: "mail.support_contact", kind: "string", default: "\"\"", doc: "How customers reach the support desk (e.g. `サポートデスク 0120-000-000`), named in every notice as what to do if it was not them; empty says \"the support desk\". Never a link (anti-phishing)." },
    Key { path: "mail.max_attempts", kind: "integer", default: "8", doc: "Delivery attempts before a mail is given up, audited as `mail_failed` and listed by `GET /api/admin/v1/mail?state=failed`." },
    Key { path: "mail.retry_base_secs", kind: "integer", default: "30", doc: "Wait before the second attempt; doubled after each further failure." },
    Key { path: "mail.retry_max_secs", kind: "integer", default: "3600", doc: "Longest wait between two attempts." },
    Key { path: "mail.poll_interval_ms", kind: "integer", default: "5000", doc: "How often the sender looks for due mail besides being woken by new mail (retries, other instances' mail)." },
    Key { path: "tokens.max_per_login", kind: "integer", default: "1", doc: "How many hardware/software tokens one login may have assigned at once (the Shoko Chukin manual allows one)." },
    Key { path: "tokens.lockout_threshold", kind: "integer", default: "10", doc: "Consecutive wrong codes that lock a token until an operator unlocks it." },
    Key { path: "tokens.hotp_look_ahead", kind: "integer", default: "10", doc: "HOTP tokens: counters after the expected one accepted at login and registration (button presses without logging in)." },
    Key { path: "tokens.hotp_resync_window", kind: "integer", default: "100", doc: "HOTP tokens: counters searched for two consecutive codes by a resynchronisation (同期ズレ補正)." },
    Key { path: "tokens.totp_window", kind: "integer", default: "1", doc: "TOTP tokens: steps accepted either side of the expected one at login (after the token's learnt drift)." },
    Key { path: "branding.firm_name", kind: "string", default: "\"\" (`mail.firm_name`)", doc: "The firm's name in the hosted pages' header and title." },
    Key { path: "branding.logo_url", kind: "string", default: "\"\"", doc: "The firm's logo in the hosted pages' header: a path on this server's origin or a `data:` URL (the Content-Security-Policy allows no other origin); empty shows the name." },
    Key { path: "branding.primary_color", kind: "string", default: "\"#1f4e79\"", doc: "The firm's colour for the hosted pages' header and buttons, `#rrggbb`." },
    Key { path: "pages.return_to_allowlist", kind: "list", default: "[]", doc: "Where the hosted login may send the customer back to: each entry an origin plus path prefix (`https://trade.example.co.jp/`); a `return_to` must start with one, at a path boundary. Empty allows none." },
    Key { path: "pages.rate_per_ip_per_minute", kind: "integer", default: "60", doc: "Hosted-page form submissions accepted per minute from one IP address (in each instance), and as many passwordless passkey begins (`POST /api/v1/login/passkey/begin` without a challenge); more are answered 429 `too_many_attempts`." },
    Key { path: "pages.rate_per_login_per_minute", kind: "integer", default: "20", doc: "Hosted-page form submissions accepted per minute for one login ID (in each instance); more are answered 429." },
    Key { path: "tokens.totp_resync_steps", kind: "integer", default: "10", doc: "TOTP tokens: steps either side of the server's time searched by a resynchronisation." },
    Key { path: "mfa.mandatory_from", kind: "string", default: "unset", doc: "RFC 3339 time from which every login needs a second factor (e.g. `2026-06-22T00:00:00+09:00`). Before it, logins without one go on with the password alone and the login answer carries `mfa_reminder`; unset, only logins with `mfa_required` must use one." },
    Key { path: "mfa.reminder_days", kind: "integer", default: "14", doc: "Days before `mfa.mandatory_from` during which the admin logins list flags logins without a factor as `mfa_deadline_near` (and the reminder says `deadline_near`)." },
    Key { path: "mfa.after_deadline", kind: "string", default: "\"email_code\"", doc: "What happens after `mfa.mandatory_from` to a login without a factor: `email_code` (a code by e-mail to the registered address, JTG) or `refuse` (`second_factor_not_initialized`, CQG)." },
    Key { path: "step_up.request_ttl_secs", kind: "integer", default: "600", doc: "How long a customer has to confirm (or refuse) a step-up request (`POST /api/v1/step-up`) on the confirmation page." },
    Key { path: "step_up.proof_ttl_secs", kind: "integer", default: "300", doc: "Lifetime of a signed step-up proof: its `exp` is this long after `iat` (the confirmation). Keep it short; apps verify it offline with `/.well-known/jwks.json`." },
    Key { path: "step_up.issuer", kind: "string", default: "\"\" (`public_url`)", doc: "The `iss` claim of step-up proofs; empty uses `public_url`." },
    Key { path: "step_up.allowed_methods", kind: "list", default: "[\"passkey\", \"totp\", \"token\"]", doc: "Second factors that may confirm a step-up: `passkey` (offered first when the login has one; `amr` `hwk`+`user`), `totp` (authenticator app), `token` (hardware/software token). Each customer can use those of them the login has. The trading password is never one (it is no second factor)." },
    Key { path: "step_up.passkey_required_kinds", kind: "list", default: "[]", doc: "Operation kinds only a passkey confirms (`withdrawal`, `withdrawal_account_change`, `large_order`, `other`); a customer without a passkey is told to register one (`step_up_passkey_required`, SKS-STP-0006). Empty by default: the JSDA guideline allows other MFA as an interim step, and requiring passkeys before customers have registered them would block their withdrawals; set `[\"withdrawal\", \"withdrawal_account_change\"]` once they have. Needs `passkey` in `step_up.allowed_methods`." },
    Key { path: "passkeys.rp_id", kind: "string", default: "unset (the host of `public_url`)", doc: "The WebAuthn relying party ID: the login site's domain (`login.example-sec.co.jp`) or a parent domain of it; never an IP address. Passkeys are bound to it: changing it makes registered passkeys unusable." },
    Key { path: "passkeys.rp_name", kind: "string", default: "unset (`mail.firm_name`)", doc: "The relying party's name the browser shows while creating a passkey." },
    Key { path: "passkeys.origins", kind: "list", default: "unset (`public_url`)", doc: "The origins (`https://login.example-sec.co.jp`) pages may run passkey ceremonies from; each must be on `passkeys.rp_id`." },
    Key { path: "passkeys.ceremony_secs", kind: "integer", default: "300", doc: "How long a passkey ceremony may last between its begin and its finish (on any instance); each is used once." },
    Key { path: "passkeys.required", kind: "bool", default: "false", doc: "Every login must answer its second step with a passkey: codes (app, token, e-mail) no longer do, and a login without a passkey is refused with `second_factor_not_initialized`. A single login is made to use passkeys by setting its `second_factor` to `passkey`." },
    Key { path: "passkeys.instead_of_codes", kind: "bool", default: "true", doc: "During the interim: a customer who registered a passkey may use it instead of the code factor the firm set (a passkey is then offered first). Off, passkeys count only for logins set to `passkey` or `any`, or when `passkeys.required`." },
    Key { path: "oidc.issuer", kind: "string", default: "\"\" (`public_url`)", doc: "The OpenID Connect issuer (`issuer` of `/.well-known/openid-configuration`, `iss` of the tokens); empty uses `public_url`. Clients compare it exactly, so it never ends in `/` and never changes once clients are registered." },
    Key { path: "admin_listen", kind: "string", default: "unset", doc: "A second address (e.g. an internal `10.0.0.5:8443`) that alone serves the admin API `/api/admin/…` (and later the console `/admin`); the public `listen` address then answers 404 for them. Unset, `listen` serves everything." },
];

/// The resolved configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub listen: String,
    pub data_dir: PathBuf,
    pub database_url: Option<String>,
    pub database_max_connections: u32,
    pub database_sqlite_synchronous: String,
    pub public_url: Option<String>,
    pub master_key: Option<String>,
    pub master_key_file: Option<PathBuf>,
    pub log_format: String,
    pub log_level: String,
    pub trust_forwarded_for: bool,
    pub max_body_bytes: u64,
    pub api_token_cache_secs: u32,
    pub password: PasswordConfig,
    pub session: SessionConfig,
    pub totp: TotpConfig,
    pub trading_password: TradingPasswordConfig,
    pub email_code: EmailCodeConfig,
    pub tokens: TokensConfig,
    pub recovery: RecoveryConfig,
    pub mail: MailConfig,
    pub devices: DevicesConfig,
    pub notify: NotifyConfig,
    pub mfa: MfaConfig,
    pub admin_listen: Option<String>,
    pub step_up: StepUpConfig,
    pub branding: BrandingConfig,
    pub pages: PagesConfig,
    pub passkeys: PasskeysConfig,
    pub oidc: OidcConfig,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PasskeysConfig {
    pub rp_id: Option<String>,
    pub rp_name: Option<String>,
    pub origins: Option<Vec<String>>,
    pub ceremony_secs: u32,
    pub required: bool,
    pub instead_of_codes: bool,
}

impl Default for PasskeysConfig {
    fn default() -> Self {
        PasskeysConfig {
            rp_id: None,
            rp_name: None,
            origins: None,
            ceremony_secs: 300,
            required: false,
            instead_of_codes: true,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MfaConfig {
    pub mandatory_from: Option<String>,
    pub reminder_days: u32,
    pub after_deadline: String,
}

impl Default for MfaConfig {
    fn default() -> Self {
        MfaConfig {
            mandatory_from: None,
            reminder_days: 14,
            after_deadline: "email_code".into(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BrandingConfig {
    pub firm_name: String,
    pub logo_url: String,
    pub primary_color: String,
}

impl Default for BrandingConfig {
    fn default() -> Self {
        BrandingConfig {
            firm_name: String::new(),
            logo_url: String::new(),
            primary_color: "#1f4e79".into(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PagesConfig {
    pub return_to_allowlist: Vec<String>,
    pub rate_per_ip_per_minute: u32,
    pub rate_per_login_per_minute: u32,
}

impl Default for PagesConfig {
    fn default() -> Self {
        PagesConfig {
            return_to_allowlist: Vec::new(),
            rate_per_ip_per_minute: 60,
            rate_per_login_per_minute: 20,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StepUpConfig {
    pub request_ttl_secs: i64,
    pub proof_ttl_secs: i64,
    pub issuer: String,
    pub allowed_methods: Vec<String>,
    pub passkey_required_kinds: Vec<String>,
}

impl Default for StepUpConfig {
    fn default() -> Self {
        StepUpConfig {
            request_ttl_secs: 600,
            proof_ttl_secs: 300,
            issuer: String::new(),
            allowed_methods: vec!["passkey".into(), "totp".into(), "token".into()],
            passkey_required_kinds: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OidcConfig {
    pub issuer: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NotifyConfig {
    pub login_default: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DevicesConfig {
    pub remember_days: u32,
    pub allowed_methods: Vec<String>,
}

impl Default for DevicesConfig {
    fn default() -> Self {
        DevicesConfig {
            remember_days: 30,
            allowed_methods: vec!["email".into()],
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EmailCodeConfig {
    pub digits: u32,
    pub ttl_secs: i64,
    pub max_tries: u32,
    pub resend_cooldown_secs: i64,
    pub max_resends: u32,
    pub login_timeout_secs: i64,
}

impl Default for EmailCodeConfig {
    fn default() -> Self {
        EmailCodeConfig {
            digits: 6,
            ttl_secs: 300,
            max_tries: 5,
            resend_cooldown_secs: 30,
            max_resends: 3,
            login_timeout_secs: 900,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TokensConfig {
    pub max_per_login: u32,
    pub lockout_threshold: u32,
    pub hotp_look_ahead: u32,
    pub hotp_resync_window: u32,
    pub totp_window: u32,
    pub totp_resync_steps: u32,
}

impl Default for TokensConfig {
    fn default() -> Self {
        TokensConfig {
            max_per_login: 1,
            lockout_threshold: 10,
            hotp_look_ahead: 10,
            hotp_resync_window: 100,
            totp_window: 1,
            totp_resync_steps: 10,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RecoveryConfig {
    pub lockout_threshold: u32,
}

impl Default for RecoveryConfig {
    fn default() -> Self {
        RecoveryConfig {
            lockout_threshold: 10,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TotpConfig {
    pub issuer: String,
    pub account_name: String,
    pub algorithm: String,
    pub digits: u32,
    pub period: u32,
    pub window: u32,
    pub enrolment_timeout_secs: i64,
    pub lockout_threshold: u32,
}

impl Default for TotpConfig {
    fn default() -> Self {
        TotpConfig {
            issuer: "Sekisho".into(),
            account_name: "{login_id}".into(),
            algorithm: "SHA1".into(),
            digits: 6,
            period: 30,
            window: 1,
            enrolment_timeout_secs: 600,
            lockout_threshold: 10,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PasswordConfig {
    pub preset: String,
    pub min_length: Option<u32>,
    pub min_length_with_mfa: Option<u32>,
    pub max_length: Option<u32>,
    pub history: Option<u32>,
    pub max_age_days: Option<u32>,
    pub lockout_threshold: Option<u32>,
    pub argon2_memory_kib: u32,
    pub argon2_iterations: u32,
    pub argon2_parallelism: u32,
    pub hash_concurrency: Option<u32>,
    pub hash_queue_limit: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SessionConfig {
    pub idle_timeout_secs: i64,
    pub absolute_timeout_secs: i64,
    pub password_change_timeout_secs: i64,
    pub challenge_timeout_secs: i64,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TradingPasswordConfig {
    pub reauth: bool,
}

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MailConfig {
    pub outbox_dir: Option<PathBuf>,
    pub smtp_host: Option<String>,
    pub smtp_port: Option<u16>,
    pub smtp_tls: String,
    pub smtp_username: Option<String>,
    pub smtp_password: Option<String>,
    pub smtp_pool_size: u32,
    pub timeout_secs: u64,
    pub from: String,
    pub firm_name: String,
    pub support_contact: String,
    pub max_attempts: u32,
    pub retry_base_secs: i64,
    pub retry_max_secs: i64,
    pub poll_interval_ms: u64,
}

impl Default for MailConfig {
    fn default() -> Self {
        MailConfig {
            outbox_dir: None,
            smtp_host: None,
            smtp_port: None,
            smtp_tls: "starttls".into(),
            smtp_username: None,
            smtp_password: None,
            smtp_pool_size: 4,
            timeout_secs: 30,
            from: "no-reply@sekisho.invalid".into(),
            firm_name: "Sekisho".into(),
            support_contact: String::new(),
            max_attempts: 8,
            retry_base_secs: 30,
            retry_max_secs: 3600,
            poll_interval_ms: 5000,
        }
    }
}

// The SMTP password must not reach a log through `{:?}`.
impl std::fmt::Debug for MailConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailConfig")
            .field("outbox_dir", &self.outbox_dir)
            .field("smtp_host", &self.smtp_host)
            .field("smtp_port", &self.smtp_port)
            .field("smtp_tls", &self.smtp_tls)
            .field("smtp_username", &self.smtp_username)
            .field(
                "smtp_password",
                &self.smtp_password.as_ref().map(|_| "<redacted>"),
            )
            .field("from", &self.from)
            .field("firm_name", &self.firm_name)
            .finish_non_exhaustive()
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("./sekisho-data"),
            database_url: None,
            database_max_connections: 10,
            database_sqlite_synchronous: "normal".into(),
            public_url: None,
            master_key: None,
            master_key_file: None,
            log_format: "text".into(),
            log_level: "info".into(),
            trust_forwarded_for: false,
            max_body_bytes: 64 * 1024,
            api_token_cache_secs: 5,
            password: PasswordConfig::default(),
            session: SessionConfig::default(),
            totp: TotpConfig::default(),
            trading_password: TradingPasswordConfig::default(),
            email_code: EmailCodeConfig::default(),
            tokens: TokensConfig::default(),
            recovery: RecoveryConfig::default(),
            mail: MailConfig::default(),
            devices: DevicesConfig::default(),
            notify: NotifyConfig::default(),
            mfa: MfaConfig::default(),
            admin_listen: None,
            step_up: StepUpConfig::default(),
            branding: BrandingConfig::default(),
            pages: PagesConfig::default(),
            passkeys: PasskeysConfig::default(),
            oidc: OidcConfig::default(),
        }
    }
}

impl Default for PasswordConfig {
    fn default() -> Self {
        PasswordConfig {
            preset: "jp-broker".into(),
            min_length: None,
            min_length_with_mfa: None,
            max_length: None,
            history: None,
            max_age_days: None,
            lockout_threshold: None,
            argon2_memory_kib: 19 * 1024,
            argon2_iterations: 2,
            argon2_parallelism: 1,
            hash_concurrency: None,
            hash_queue_limit: 1024,
        }
    }
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            idle_timeout_secs: 1800,
            absolute_timeout_secs: 12 * 3600,
            password_change_timeout_secs: 600,
            challenge_timeout_secs: 300,
        }
    }
}

/// Flags that override the file and the environment.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ConfigArgs {
    /// TOML configuration file.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Data folder (SQLite database, generated master key, mail outbox).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Database URL (`sqlite:///…` or `postgres://…`).
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
}

fn env_name(path: &str) -> String {
    format!("SEKISHO_{}", path.replace('.', "_").to_ascii_uppercase())
}

/// Environment variables that belong to the test harness or tools, not to the server.
const IGNORED_ENV: &[&str] = &["SEKISHO_TEST_", "SEKISHO_BENCH_"];

fn set_path(table: &mut toml::Table, path: &str, value: toml::Value) -> Result<()> {
    let mut parts = path.split('.').peekable();
    let mut t = table;
    while let Some(p) = parts.next() {
        if parts.peek().is_none() {
            t.insert(p.to_owned(), value);
            return Ok(());
        }
        let entry = t
            .entry(p.to_owned())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        t = entry
            .as_table_mut()
            .ok_or_else(|| anyhow!("configuration key {p} must be a table"))?;
    }
    Ok(())
}

fn parse_env_value(key: &Key, raw: &str) -> Result<toml::Value> {
    let name = env_name(key.path);
    Ok(match key.kind {
        "integer" => toml::Value::Integer(
            raw.trim()
                .parse()
                .with_context(|| format!("{name} must be an integer, got {raw:?}"))?,
        ),
        "bool" => toml::Value::Boolean(match raw.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => true,
            "0" | "false" | "no" | "off" => false,
            _ => bail!("{name} must be true or false, got {raw:?}"),
        }),
        "list" => toml::Value::Array(
            raw.split(',')
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(|v| toml::Value::String(v.to_owned()))
                .collect(),
        ),
        _ => toml::Value::String(raw.to_owned()),
    })
}

impl Config {
    /// Loads defaults ← file ← environment (`vars`) ← flags.
    pub fn load(
        args: &ConfigArgs,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config> {
        let mut table = match &args.config {
            Some(path) => {
                let text = std::fs::read_to_string(path).with_context(|| {
                    format!("cannot read configuration file {}", path.display())
                })?;
                text.parse::<toml::Table>()
                    .with_context(|| format!("invalid TOML in {}", path.display()))?
            }
            None => toml::Table::new(),
        };
        for (name, raw) in vars {
            if !name.starts_with("SEKISHO_") || IGNORED_ENV.iter().any(|p| name.starts_with(p)) {
                continue;
            }
            let key = KEYS
                .iter()
                .find(|k| env_name(k.path) == name)
                .ok_or_else(|| {
                    anyhow!("unknown configuration variable {name} (see `sekisho config keys`)")
                })?;
            set_path(&mut table, key.path, parse_env_value(key, &raw)?)?;
        }
        let mut config: Config = Config::deserialize(toml::Value::Table(table)).map_err(|e| {
            anyhow!(
                "invalid configuration{}: {}",
                args.config
                    .as_ref()
                    .map(|p| format!(" in {}", p.display()))
                    .unwrap_or_default(),
                e.to_string().trim()
            )
        })?;
        if let Some(d) = &args.data_dir {
            config.data_dir = d.clone();
        }
        if let Some(u) = &args.database_url {
            config.database_url = Some(u.clone());
        }
        Ok(config)
    }

    /// The database URL: the configured one, or SQLite in the data folder.
    pub fn database_url(&self) -> Result<String> {
        if let Some(u) = self.database_url.as_ref().filter(|u| !u.is_empty()) {
            return Ok(u.clone());
        }
        let dir = absolute(&self.data_dir)?;
        Ok(format!(
            "sqlite://{}?mode=rwc",
            dir.join("sekisho.db").display()
        ))
    }

    /// The mail outbox folder.
    pub fn outbox_dir(&self) -> PathBuf {
        self.mail
            .outbox_dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("outbox"))
    }
}

fn absolute(p: &Path) -> Result<PathBuf> {
    std::fs::create_dir_all(p)
        .with_context(|| format!("cannot create data folder {}", p.display()))?;
    p.canonicalize()
        .with_context(|| format!("cannot resolve data folder {}", p.display()))
}

/// The keys as a Markdown table (the body of docs/configuration.md).
pub fn keys_markdown() -> String {
    let mut s = String::from(
        "| key | environment variable | type | default | meaning |\n|---|---|---|---|---|\n",
    );
    for k in KEYS {
        s.push_str(&format!(
            "| `{}` | `{}` | {} | {} | {} |\n",
            k.path,
            env_name(k.path),
            k.kind,
            k.default,
            k.doc
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn every_documented_key_is_accepted_from_the_environment() {
        let v: Vec<(String, String)> = KEYS
            .iter()
            .map(|k| {
                let val = match k.kind {
                    "integer" => "7",
                    "bool" => "true",
                    _ => "x",
                };
                (env_name(k.path), val.to_owned())
            })
            .collect();
        let c = Config::load(&ConfigArgs::default(), v);
        assert!(c.is_ok(), "{c:?}");
    }

    #[test]
    fn precedence_file_env_flags() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| unreachable!("{e}"));
        let file = dir.path().join("s.toml");
        std::fs::write(&file, "listen = \"127.0.0.1:9000\"\n[password]\npreset = \"nist-800-63b-4\"\nlockout_threshold = 7\n")
            .unwrap_or_else(|e| unreachable!("{e}"));
        let args = ConfigArgs {
            config: Some(file),
            data_dir: Some("/tmp/x".into()),
            database_url: None,
        };
        let c = Config::load(
            &args,
            vars(&[
                ("SEKISHO_PASSWORD_LOCKOUT_THRESHOLD", "9"),
                ("SEKISHO_TEST_DATABASE_URL", "ignored"),
            ]),
        )
        .unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(c.listen, "127.0.0.1:9000");
        assert_eq!(c.password.preset, "nist-800-63b-4");
        assert_eq!(c.password.lockout_threshold, Some(9));
        assert_eq!(c.data_dir, PathBuf::from("/tmp/x"));
    }

    #[test]
    fn unknown_keys_are_errors() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| unreachable!("{e}"));
        let file = dir.path().join("s.toml");
        std::fs::write(&file, "[password]\npresett = \"x\"\n")
            .unwrap_or_else(|e| unreachable!("{e}"));
        let args = ConfigArgs {
            config: Some(file),
            ..Default::default()
        };
        let e = Config::load(&args, vec![])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("presett"), "{e}");
        let e = Config::load(&ConfigArgs::default(), vars(&[("SEKISHO_LISTN", "x")]))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("SEKISHO_LISTN"), "{e}");
        let e = Config::load(
            &ConfigArgs::default(),
            vars(&[("SEKISHO_PASSWORD_HISTORY", "two")]),
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(e.contains("integer"), "{e}");
    }

    #[test]
    fn configuration_doc_lists_every_key() {
        let doc = include_str!("../../../docs/configuration.md");
        assert!(
            doc.contains(&keys_markdown()),
            "docs/configuration.md is out of date: run `sekisho config keys`"
        );
    }
}
