//! Configuration: embedded defaults, then a TOML file (`--config`), then `SEKISHO_*` environment
//! variables, then command-line flags, merged into one TOML table and deserialised straight into
//! [`Config`] (the process's own keys) and the application's [`Settings`] (everything else,
//! one struct per area with its one `Default`). Every key is listed in [`KEYS`], which documents
//! it and drives the environment mapping and `sekisho config keys`; an unknown key anywhere is
//! an error. A test keeps the literal defaults in [`KEYS`] equal to the structs' `Default`.

use anyhow::{anyhow, bail, Context, Result};
use sekisho_app::Settings;
use sekisho_store::SqliteSynchronous;
use serde::{Deserialize, Serialize};
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
    Key { path: "extra_master_key_files", kind: "list", default: "[]", doc: "Files of further master keys (hex) that open sealed values but never seal new ones: during a master-key rotation, the coming key until every instance knows it, then the old key until `sekisho keys rotate-master --finish` finds none of its values left (docs/operations.md). Empty outside a rotation." },
    Key { path: "log_format", kind: "string", default: "\"text\"", doc: "`text` or `json`." },
    Key { path: "log_level", kind: "string", default: "\"info\"", doc: "A tracing filter such as `info` or `sekisho=debug` (`RUST_LOG` overrides)." },
    Key { path: "trust_forwarded_for", kind: "bool", default: "false", doc: "Take the client IP from `X-Forwarded-For` (only behind a proxy you control): the right-most address that is not in `trusted_proxies`." },
    Key { path: "trusted_proxies", kind: "list", default: "[]", doc: "With `trust_forwarded_for`: the networks of your proxies (`10.0.0.0/8`, `192.0.2.7`; comma-separated in the environment). The client is the right-most `X-Forwarded-For` address outside them, walking right to left, and a peer outside them is the client itself. Empty: the immediate peer is the one proxy, so the right-most entry is the client." },
    Key { path: "max_body_bytes", kind: "integer", default: "65536", doc: "Largest accepted request body; larger ones get `payload_too_large`." },
    Key { path: "api_token_cache_secs", kind: "integer", default: "5", doc: "How long an instance trusts an API token it has checked without reading it again (busy callers of `/api/v1/validate`). Revoking drops it at once on the instance that revokes; other instances honour it for at most this long. 0 reads every time." },
    Key { path: "password.preset", kind: "string", default: "\"jp-broker\"", doc: "`jp-broker` (8–16 letters and digits, last 2 refused, 90-day expiry, lock after 5) or `nist-800-63b-4` (≥15 alone / ≥8 with MFA, up to 64, blocklist, no expiry, lock after 100)." },
    Key { path: "password.min_length", kind: "integer", default: "preset", doc: "Minimum length when the password is the only factor." },
    Key { path: "password.min_length_with_mfa", kind: "integer", default: "preset", doc: "Minimum length when the login has a second factor." },
    Key { path: "password.max_length", kind: "integer", default: "preset", doc: "Maximum length." },
    Key { path: "password.history", kind: "integer", default: "preset", doc: "How many recent passwords (the current one included) may not be reused; 0 for none." },
    Key { path: "password.max_age_days", kind: "integer", default: "preset", doc: "Days until a password must be changed; 0 for never." },
    Key { path: "password.lockout_threshold", kind: "integer", default: "preset", doc: "Consecutive password failures that lock the login (until an operator unlocks it, or for `password.lockout_duration_secs` with `password.lockout_mode = \"timed\"`)." },
    Key { path: "password.lockout_mode", kind: "string", default: "preset (`operator` for jp-broker, `timed` for nist-800-63b-4)", doc: "How a password lock ends: `operator` (the support desk unlocks it, as the seeds do; anyone who knows a login ID can lock it, so keep the throttle on) or `timed` (it lifts by itself after `password.lockout_duration_secs`, NIST SP 800-63B's throttling; a guesser gets `lockout_threshold` tries per duration). See docs/security-model.md." },
    Key { path: "password.lockout_duration_secs", kind: "integer", default: "900", doc: "With `password.lockout_mode = \"timed\"`: how long a password lock lasts (60 s to 30 days). The lift is audited (`login_unlocked` by `system`)." },
    Key { path: "password.argon2_memory_kib", kind: "integer", default: "19456", doc: "Argon2id memory cost (OWASP: 19 MiB)." },
    Key { path: "password.argon2_iterations", kind: "integer", default: "2", doc: "Argon2id passes." },
    Key { path: "password.argon2_parallelism", kind: "integer", default: "1", doc: "Argon2id lanes." },
    Key { path: "password.hash_concurrency", kind: "integer", default: "number of cores", doc: "Hashes computed at once; bounds CPU and memory (memory cost × this)." },
    Key { path: "password.hash_queue_limit", kind: "integer", default: "1024", doc: "Hashes allowed to wait; beyond it logins get `server_busy` (503)." },
    Key { path: "session.idle_timeout_secs", kind: "integer", default: "1800", doc: "A session unused this long ends." },
    Key { path: "session.absolute_timeout_secs", kind: "integer", default: "43200", doc: "A session ends this long after login." },
    Key { path: "session.password_change_timeout_secs", kind: "integer", default: "600", doc: "Lifetime of the restricted token for changing a temporary or expired password." },
    Key { path: "session.challenge_timeout_secs", kind: "integer", default: "300", doc: "How long a login may wait between the password and the second factor." },
    Key { path: "session.retain_days", kind: "integer", default: "30", doc: "Days a customer session is kept after its absolute end (`session.absolute_timeout_secs` after login; one logged out, revoked or left idle ended sooner) before the background worker deletes it, with the clients it signed in to (once a minute, a thousand at a time). Its audit records stay with the audit trail." },
    Key { path: "totp.issuer", kind: "string", default: "\"Sekisho\"", doc: "Issuer shown in authenticator apps (the firm or service name)." },
    Key { path: "totp.account_name", kind: "string", default: "\"{login_id}\"", doc: "Account name shown in authenticator apps; `{login_id}` is replaced by the login ID (e.g. `北洋証券オンラインサービス` as in the Hokuyo manual)." },
    Key { path: "totp.algorithm", kind: "string", default: "\"SHA1\"", doc: "`SHA1`, `SHA256` or `SHA512` for new enrolments. Some apps (Google Authenticator on some platforms) ignore anything but SHA1." },
    Key { path: "totp.digits", kind: "integer", default: "6", doc: "Code length for new enrolments (6–8; some apps ignore 8)." },
    Key { path: "totp.period", kind: "integer", default: "30", doc: "Seconds per code for new enrolments (some apps ignore anything but 30)." },
    Key { path: "totp.window", kind: "integer", default: "1", doc: "Steps accepted either side of the expected one (after the device's learnt drift)." },
    Key { path: "totp.enrolment_timeout_secs", kind: "integer", default: "600", doc: "How long an enrolment may stay unconfirmed." },
    Key { path: "totp.lockout_threshold", kind: "integer", default: "10", doc: "Consecutive wrong codes that lock the factor until an operator unlocks the login." },
    Key { path: "recovery.lockout_threshold", kind: "integer", default: "10", doc: "Consecutive wrong recovery codes that lock the login's recovery codes until an operator unlocks the login (or the customer generates a new set)." },
    Key { path: "operators.lockout_threshold", kind: "integer", default: "`password.lockout_threshold`, at most 10", doc: "Consecutive wrong passwords that lock an operator until another admin unlocks it." },
    Key { path: "operators.code_lockout_threshold", kind: "integer", default: "10", doc: "Consecutive wrong authenticator-app codes that lock an operator (a used code is refused without counting)." },
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
    Key { path: "pages.software_keyboard", kind: "bool", default: "preset", doc: "On-screen keyboard (ソフトウェアキーボード) beside every password field of the hosted pages and the console login: the allowed characters in a new random order at each opening. Default follows `password.preset`: on for `jp-broker`, off for `nist-800-63b-4`; set it to decide either way." },
    Key { path: "pages.time_zone", kind: "string", default: "\"Asia/Tokyo\"", doc: "The firm's time zone, an IANA name (`Asia/Tokyo`, `UTC`, `Asia/Singapore`): every time a person reads (the hosted pages, mails, the console, the history CSV) is shown in it with the zone named (`JST`); the JSON API keeps RFC 3339 UTC. The zone database is built in." },
    Key { path: "throttle.per_address_per_minute", kind: "integer", default: "120", doc: "Attempts a minute from one client address at every door that checks a secret (`/api/v1/login` and its second step, passwordless passkey begin, the operators' `/api/admin/v1/session`, the hosted pages' forms), after a burst of `throttle.per_address_burst`; more are answered 429 `too_many_attempts` with `Retry-After`. Kept in the database: every instance shares it. Carrier-grade NAT puts many customers behind one address; size it for the busiest one." },
    Key { path: "throttle.per_address_burst", kind: "integer", default: "60", doc: "Attempts at once from one client address (a token bucket, not a fixed window: no boundary lets a second burst through)." },
    Key { path: "throttle.per_login_per_minute", kind: "integer", default: "10", doc: "Attempts a minute for one login ID (or operator name) at those doors, after a burst of `throttle.per_login_burst`, whatever the address." },
    Key { path: "throttle.per_login_burst", kind: "integer", default: "10", doc: "Attempts at once for one login ID." },
    Key { path: "throttle.validate_failures_per_minute", kind: "integer", default: "10", doc: "Wrong codes a minute for one login ID at `/api/v1/validate`, after a burst of `throttle.validate_failures_burst`; once used up, every code for the login is answered 429 until the bucket refills. Only failures count there (the systems that call it come from few addresses at a high rate), so an accepted code costs nothing." },
    Key { path: "throttle.validate_failures_burst", kind: "integer", default: "10", doc: "Wrong codes at once for one login ID at `/api/v1/validate`." },
    Key { path: "throttle.delay_free_failures", kind: "integer", default: "2", doc: "Consecutive wrong passwords of a login ID that cost no wait (typos)." },
    Key { path: "throttle.delay_base_secs", kind: "integer", default: "1", doc: "After them, the login ID waits this long after its next wrong password, doubling with each further one (1, 2, 4 … s), up to `throttle.delay_cap_secs`; an attempt during the wait is answered 429 `too_many_attempts` with `Retry-After`. 0 turns the growing delay off." },
    Key { path: "throttle.delay_cap_secs", kind: "integer", default: "60", doc: "The longest wait of the growing delay (at most 3600): short, so that it slows a guesser without becoming a lock-out tool by itself." },
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
    Key { path: "oidc.dpop_nonce", kind: "bool", default: "false", doc: "DPoP proofs (RFC 9449) at the token endpoint and UserInfo must carry a server nonce: a proof without one (or with a stale one) is answered `use_dpop_nonce` with a fresh `DPoP-Nonce` header. Nonces are derived from the master key and a 5-minute window, so every instance accepts the others'." },
    Key { path: "oidc.dpop_iat_window_secs", kind: "integer", default: "60", doc: "How far a DPoP proof's `iat` may be from the server's time, either way (seconds, 1–600). A proof's `jti` is kept in the database for twice this long, so a replay is refused on any instance." },
    Key { path: "oidc.refresh_token_days", kind: "integer", default: "30", doc: "Lifetime of refresh tokens (days, 1–3650), issued with the code exchange to clients registered with the `refresh_token` grant. A public client's refresh token is rotated at each use (a rotated one used again revokes the whole grant); a confidential client's is kept until it expires." },
    Key { path: "oidc.client_rate_per_minute", kind: "integer", default: "60000", doc: "Requests a minute PAR and the token endpoint take from one authenticated client (shared by all instances; a relying party sends every customer's exchanges, so size it for the busiest minute); beyond it `too_many_attempts` (429) with `Retry-After`." },
    Key { path: "oidc.client_rate_burst", kind: "integer", default: "2000", doc: "Requests PAR and the token endpoint take at once from one authenticated client before `oidc.client_rate_per_minute` applies." },
    Key { path: "oidc.address_failures_per_minute", kind: "integer", default: "60", doc: "Failed client authentications a minute at PAR, the token endpoint, introspection and revocation per client address (shared by all instances); once spent, the address is refused (429 with `Retry-After`) before its credentials are checked. Successful requests never count." },
    Key { path: "oidc.address_failures_burst", kind: "integer", default: "20", doc: "Failed client authentications at once per client address before `oidc.address_failures_per_minute` applies." },
    Key { path: "oidc.backchannel_timeout_secs", kind: "integer", default: "5", doc: "How long a client's `backchannel_logout_uri` has to answer a logout token (OpenID Connect Back-Channel Logout); a slower answer counts as a failed attempt." },
    Key { path: "oidc.backchannel_max_attempts", kind: "integer", default: "6", doc: "Delivery attempts of a back-channel logout before it is given up; the last failure is an audit record (`oidc_backchannel_failed`) naming the client." },
    Key { path: "oidc.backchannel_retry_base_secs", kind: "integer", default: "10", doc: "Wait before the second attempt of a back-channel logout; doubled after each further failure." },
    Key { path: "oidc.backchannel_retry_max_secs", kind: "integer", default: "600", doc: "Longest wait between two attempts of a back-channel logout." },
    Key { path: "oidc.backchannel_poll_interval_ms", kind: "integer", default: "1000", doc: "How often each instance looks for back-channel logouts that are due (the outbox is in the database: any instance delivers)." },
    Key { path: "oidc.logout_retain_days", kind: "integer", default: "30", doc: "Days a delivered or given-up back-channel logout stays in the outbox before the sender deletes it (once a minute, a thousand at a time); pending ones stay. Their audit records are kept with the audit trail." },
    Key { path: "oidc.backchannel_ca_file", kind: "string", default: "\"\"", doc: "A PEM file of CA certificates trusted for clients' back-channel logout URIs besides the public (webpki) roots, e.g. the firm's private CA; empty trusts the public roots only." },
    Key { path: "oidc.jwks_cache_secs", kind: "integer", default: "300", doc: "How long a key set fetched from a client's `jwks_uri` is used (10–86400 s); an assertion naming a `kid` not in it fetches it again, at most every 10 s. The CA certificates of `oidc.backchannel_ca_file` are trusted for these fetches too." },
    Key { path: "oidc.jwks_timeout_secs", kind: "integer", default: "5", doc: "How long fetching a client's `jwks_uri` may take (1–60 s); only https, redirects only to https, at most 64 KiB." },
    Key { path: "oidc.acr_values.password", kind: "string", default: "\"urn:sekisho:acr:password\"", doc: "The `acr` value of a login with the password alone (or a password and a familiar browser): what apps ask for in `acr_values` and read in ID tokens; listed in the discovery document. The three `oidc.acr_values.*` must differ and hold no spaces." },
    Key { path: "oidc.acr_values.multi_factor", kind: "string", default: "\"http://schemas.openid.net/pape/policies/2007/06/multi-factor\"", doc: "The `acr` value of a login with a second factor." },
    Key { path: "oidc.acr_values.phishing_resistant", kind: "string", default: "\"http://schemas.openid.net/pape/policies/2007/06/phishing-resistant\"", doc: "The `acr` value of a login with a passkey (phishing-resistant); a request for it alone makes the login pages ask for a passkey." },
    Key { path: "admin_listen", kind: "string", default: "unset", doc: "A second address (e.g. an internal `10.0.0.5:8443`) that alone serves the admin API `/api/admin/…` (and later the console `/admin`); the public `listen` address then answers 404 for them. Unset, `listen` serves everything." },
    Key { path: "audit.retain_days", kind: "integer", default: "0", doc: "Days the audit trail stays in the database: `sekisho audit archive --to FILE` without `--before` moves the records older than this to an archive file (which verifies on its own) and removes them; 0 keeps every record (archive only with an explicit `--before`). Nothing is removed without being archived; see docs/operations.md." },
    Key { path: "server.header_read_timeout_secs", kind: "integer", default: "10", doc: "How long a client may take to send a request's head (from connecting, or from the first byte of a further request on a kept-alive connection); a slower one is disconnected." },
    Key { path: "server.keep_alive_timeout_secs", kind: "integer", default: "60", doc: "How long a kept-alive connection may stay idle between two requests before it is closed (keep it above the idle timeout of a load balancer in front)." },
    Key { path: "server.request_timeout_secs", kind: "integer", default: "30", doc: "How long a request may take from its head to its answer, body upload included; past it the client gets `request_timeout` (503) and the connection is closed." },
    Key { path: "server.max_connections", kind: "integer", default: "4096", doc: "Connections open at once on each listener; further clients wait in the kernel's queue until one closes, and a warning is logged (at most once a minute). Lowered at start to stay 256 under the process's open-file limit (`LimitNOFILE`, `ulimit -n`)." },
    Key { path: "server.shutdown_timeout_secs", kind: "integer", default: "20", doc: "On SIGTERM or Ctrl-C: how long the server may take to answer the requests in flight and deliver the mail that is due before it exits (what is left stays in the outbox)." },
    Key { path: "tls.cert_file", kind: "string", default: "unset", doc: "Serve HTTPS (TLS 1.2 and 1.3, rustls) with this PEM certificate chain, the server's certificate first; with `tls.key_file`. Every listener (`listen`, `admin_listen`) then speaks TLS. Unset: plain HTTP, for a proxy in front that ends TLS." },
    Key { path: "tls.key_file", kind: "string", default: "unset", doc: "The certificate's private key in PEM: PKCS#8 (`BEGIN PRIVATE KEY`, RSA, EC or Ed25519), or PKCS#1 RSA / SEC1 EC. Keep it readable by the server's user alone." },
    Key { path: "tls.hsts_max_age_secs", kind: "integer", default: "31536000", doc: "With TLS on, every answer carries `Strict-Transport-Security: max-age=` this (a year); 0 sends none." },
];

/// Top-level keys the process itself reads (everything else is the application's
/// [`Settings`]). A key listed here and not in [`Config`], or the other way round, fails
/// `every_documented_key_is_accepted_from_the_environment`.
const PROCESS_KEYS: &[&str] = &[
    "listen",
    "data_dir",
    "database_url",
    "database_max_connections",
    "database_sqlite_synchronous",
    "master_key",
    "master_key_file",
    "extra_master_key_files",
    "log_format",
    "log_level",
    "admin_listen",
    "server",
    "tls",
];

/// The configuration: the process's own keys, and the application's [`Settings`] deserialised
/// from the same merged table (see [`Config::load`]).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub listen: String,
    pub data_dir: PathBuf,
    pub database_url: Option<String>,
    pub database_max_connections: u32,
    pub database_sqlite_synchronous: String,
    #[serde(skip_serializing)]
    pub master_key: Option<String>,
    pub master_key_file: Option<PathBuf>,
    pub extra_master_key_files: Vec<PathBuf>,
    pub log_format: String,
    pub log_level: String,
    pub admin_listen: Option<String>,
    /// `server.*`: the HTTP transport's timeouts and connection cap (the process's own).
    pub server: ServerSettings,
    /// `tls.*`: HTTPS served by the process itself.
    pub tls: TlsSettings,
    /// Everything the application reads: `public_url`, `password.*`, `session.*`, ….
    #[serde(skip)]
    pub settings: Settings,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("./sekisho-data"),
            database_url: None,
            database_max_connections: 10,
            database_sqlite_synchronous: "normal".into(),
            master_key: None,
            master_key_file: None,
            extra_master_key_files: Vec::new(),
            log_format: "text".into(),
            log_level: "info".into(),
            admin_listen: None,
            server: ServerSettings::default(),
            tls: TlsSettings::default(),
            settings: Settings::default(),
        }
    }
}

/// `server.*`: the HTTP transport's limits (read by `serve`, not by the application).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSettings {
    pub header_read_timeout_secs: u64,
    pub keep_alive_timeout_secs: u64,
    pub request_timeout_secs: u64,
    pub max_connections: u32,
    pub shutdown_timeout_secs: u64,
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings {
            header_read_timeout_secs: 10,
            keep_alive_timeout_secs: 60,
            request_timeout_secs: 30,
            max_connections: 4096,
            shutdown_timeout_secs: 20,
        }
    }
}

impl ServerSettings {
    /// The transport's limits, checked (1 s to a day; at least one connection).
    pub fn transport(&self) -> Result<sekisho_server::Transport> {
        let secs = std::time::Duration::from_secs;
        for (key, v) in [
            (
                "server.header_read_timeout_secs",
                self.header_read_timeout_secs,
            ),
            (
                "server.keep_alive_timeout_secs",
                self.keep_alive_timeout_secs,
            ),
            ("server.request_timeout_secs", self.request_timeout_secs),
            ("server.shutdown_timeout_secs", self.shutdown_timeout_secs),
        ] {
            if !(1..=86_400).contains(&v) {
                bail!("{key} must be 1 to 86400, got {v}");
            }
        }
        if self.max_connections == 0 {
            bail!("server.max_connections must be at least 1");
        }
        Ok(sekisho_server::Transport {
            header_read_timeout: secs(self.header_read_timeout_secs),
            keep_alive_timeout: secs(self.keep_alive_timeout_secs),
            request_timeout: secs(self.request_timeout_secs),
            max_connections: self.max_connections as usize,
            shutdown_timeout: secs(self.shutdown_timeout_secs),
            tls: None,
        })
    }
}

/// `tls.*`: HTTPS served by Sekisho itself (unset: plain HTTP, for a proxy that ends TLS).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TlsSettings {
    pub cert_file: Option<PathBuf>,
    pub key_file: Option<PathBuf>,
    pub hsts_max_age_secs: u64,
}

impl Default for TlsSettings {
    fn default() -> Self {
        TlsSettings {
            cert_file: None,
            key_file: None,
            hsts_max_age_secs: 31_536_000,
        }
    }
}

impl TlsSettings {
    /// The TLS acceptor when both files are set (read and checked now), none when neither is.
    pub fn load(&self) -> Result<Option<sekisho_server::Tls>> {
        match (&self.cert_file, &self.key_file) {
            (None, None) => Ok(None),
            (Some(cert), Some(key)) => {
                sekisho_server::Tls::from_pem_files(cert, key, self.hsts_max_age_secs)
                    .map(Some)
                    .map_err(|e| anyhow!(e))
            }
            _ => bail!("tls.cert_file and tls.key_file must be set together"),
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
    /// The `listen` address (`sekisho serve --listen`), before `public_url` is derived from it.
    #[arg(skip)]
    pub listen: Option<String>,
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
    /// Loads defaults ← file ← environment (`vars`) ← flags, then resolves the settings.
    pub fn load(
        args: &ConfigArgs,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config> {
        let table = match &args.config {
            Some(path) => {
                let text = std::fs::read_to_string(path).with_context(|| {
                    format!("cannot read configuration file {}", path.display())
                })?;
                text.parse::<toml::Table>()
                    .with_context(|| format!("invalid TOML in {}", path.display()))?
            }
            None => toml::Table::new(),
        };
        Config::merge(table, vars, args)?.resolve()
    }

    /// The configuration a TOML text describes, without the environment and flags: the same
    /// deserialisation and resolution as [`Config::load`] (tests start servers with it).
    pub fn from_toml(text: &str) -> Result<Config> {
        let table = text
            .parse::<toml::Table>()
            .context("invalid TOML in the configuration")?;
        Config::merge(table, Vec::new(), &ConfigArgs::default())?.resolve()
    }

    fn merge(
        mut table: toml::Table,
        vars: impl IntoIterator<Item = (String, String)>,
        args: &ConfigArgs,
    ) -> Result<Config> {
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
        let invalid = |e: serde_path_to_error::Error<toml::de::Error>| {
            let path = e.path().to_string();
            let inner = e.inner().to_string();
            let key = if path == "." {
                String::new()
            } else {
                format!(" ({path})")
            };
            anyhow!(
                "invalid configuration{}{key}: {}",
                args.config
                    .as_ref()
                    .map(|p| format!(" in {}", p.display()))
                    .unwrap_or_default(),
                inner.trim()
            )
        };
        let (process, app): (toml::Table, toml::Table) = table
            .into_iter()
            .partition(|(k, _)| PROCESS_KEYS.contains(&k.as_str()));
        let mut config: Config =
            serde_path_to_error::deserialize(toml::Value::Table(process)).map_err(invalid)?;
        config.settings =
            serde_path_to_error::deserialize(toml::Value::Table(app)).map_err(invalid)?;
        if let Some(d) = &args.data_dir {
            config.data_dir = d.clone();
        }
        if let Some(u) = &args.database_url {
            config.database_url = Some(u.clone());
        }
        if let Some(l) = &args.listen {
            config.listen = l.clone();
        }
        Ok(config)
    }

    /// Fills in the defaults that depend on the process's keys (`public_url` from `listen`, the
    /// outbox in `data_dir`) and checks every setting ([`Settings::resolve`]).
    fn resolve(mut self) -> Result<Config> {
        SqliteSynchronous::parse(&self.database_sqlite_synchronous)
            .ok_or_else(|| anyhow!("database_sqlite_synchronous must be normal or full"))?;
        self.server.transport()?;
        if self.tls.cert_file.is_some() != self.tls.key_file.is_some() {
            bail!("tls.cert_file and tls.key_file must be set together");
        }
        let s = &mut self.settings;
        if s.public_url.is_empty() {
            s.public_url = format!("http://{}", self.listen);
        }
        if s.mail.outbox_dir.is_none() {
            s.mail.outbox_dir = Some(self.data_dir.join("outbox"));
        }
        self.settings = std::mem::take(&mut self.settings)
            .resolve()
            .map_err(|e| anyhow!("invalid configuration: {e}"))?;
        Ok(self)
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
        self.settings
            .mail
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
#[path = "config_tests.rs"]
mod tests;
