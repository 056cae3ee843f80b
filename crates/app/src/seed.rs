//! Logins seeded in bulk, each with an active second factor whose secret is sealed with the
//! server's keyring exactly as an enrolment (authenticator app) or a token import (HOTP token)
//! seals it. The benchmark (`sekisho-bench`) and the crash test (`survive.rs`) seed through
//! here, so both exercise the server's own checks on realistic rows. Authorization codes are
//! seeded in bulk the same way for the benchmark of the OpenID Connect token endpoint, and
//! logins with a password, and an e-mail code waiting, for the benchmarks of the password step
//! and the e-mail-code step.

use crate::error::AppError;
use crate::state::App;
use sekisho_core::audit::{Actor, ClientInfo, EventType};
use sekisho_core::flow::Factor;
use sekisho_core::login::SecondFactor;
use sekisho_core::otp::{OtpKind, OtpParams};
use sekisho_core::password::PasswordPolicy;
use sekisho_core::{Error, Lang};
use sekisho_store::{NewLogin, NewOidcCode, NewToken, SeedChallenge, SeedFactor, SeedLogin};

/// Logins written per store call (one transaction each).
const PER_CALL: usize = 10_000;

/// The second factor of seeded logins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeedKind {
    /// An authenticator app (TOTP, the default parameters), confirmed at step 0.
    App,
    /// A hardware token (HOTP, 6 digits, SHA-1) registered to the login, expecting counter 0.
    Hotp,
}

/// A seeded login and the secret of its factor, for the caller to compute codes with.
#[derive(Debug, Clone)]
pub struct Seeded {
    /// The login ID (canonical).
    pub login_id: String,
    /// The factor's shared secret (20 bytes).
    pub secret: Vec<u8>,
}

/// Creates `n` logins `{prefix}000000`, `{prefix}000001`, … (the prefix must make valid,
/// unused login IDs) with a factor of `kind` each, ten thousand per transaction.
pub async fn seed_logins(
    state: &App,
    prefix: &str,
    n: usize,
    kind: SeedKind,
) -> Result<Vec<Seeded>, AppError> {
    let now = state.clock.now();
    let client = ClientInfo::default();
    let mut out = Vec::with_capacity(n);
    let mut batch = Vec::with_capacity(PER_CALL.min(n));
    for i in 0..n {
        let login_id = format!("{prefix}{i:06}");
        let mut secret = [0u8; 20];
        state.rng.fill(&mut secret);
        let mut nonce = [0u8; 12];
        state.rng.fill(&mut nonce);
        let p = OtpParams::default();
        let (factor, second_factor, what) = match kind {
            SeedKind::App => {
                let uid = format!("seed-{login_id}");
                let aad = crate::totp::secret_aad(&uid);
                let secret_enc = seal(state, &secret, &aad, nonce)?;
                let factor = SeedFactor::App {
                    uid,
                    secret_enc,
                    algorithm: p.algorithm,
                    digits: p.digits,
                    period: p.period,
                };
                (factor, SecondFactor::Totp, "an authenticator app")
            }
            SeedKind::Hotp => {
                let token_id = format!("SEED-{}", login_id.to_ascii_uppercase());
                let aad = crate::token_inventory::secret_aad(&token_id);
                let secret_enc = seal(state, &secret, &aad, nonce)?;
                let factor = SeedFactor::Token(NewToken {
                    token_id,
                    kind: OtpKind::Hotp,
                    algorithm: p.algorithm,
                    digits: p.digits,
                    period: p.period,
                    counter: 0,
                    drift: 0,
                    valid_from: None,
                    valid_until: None,
                    max_transactions: None,
                    secret_enc,
                });
                (factor, SecondFactor::Token, "an HOTP token")
            }
        };
        let audit = state.event(
            EventType::LoginCreated,
            Some(&login_id),
            Actor::System,
            &client,
            format!("login seeded in bulk with {what}"),
        );
        batch.push(SeedLogin {
            login: NewLogin {
                login_id: login_id.clone(),
                display_name: "Seed".into(),
                email: format!("{login_id}@example.com"),
                lang: Lang::Ja,
                second_factor,
                mfa_required: true,
                notify_login: None,
                now,
            },
            password_hash: None,
            factor,
            challenge: None,
            audit,
        });
        out.push(Seeded {
            login_id,
            secret: secret.to_vec(),
        });
        if batch.len() == PER_CALL {
            state.store.seed_logins(&batch).await?;
            batch.clear();
        }
    }
    if !batch.is_empty() {
        state.store.seed_logins(&batch).await?;
    }
    Ok(out)
}

/// A login seeded with a password, and its e-mail-code challenge if it has one.
#[derive(Debug, Clone)]
pub struct SeededPassword {
    /// The login ID (canonical).
    pub login_id: String,
    /// The challenge token the second step takes, and the code it waits for.
    pub challenge: Option<(String, String)>,
}

/// Creates `n` logins `{prefix}000000`, … with the permanent password `password` (hashed once
/// by the server's hashing threads with its Argon2 parameters; every login shares the hash),
/// ten thousand per transaction, unchecked by the password policy. With `email_code` each login
/// has e-mail codes as its second factor and a challenge waiting for its code, as after a
/// correct password: the code hashed as a sent one is (keyed with the challenge), valid for
/// `email_code.ttl_secs` from now; no mail is written, the caller gets the codes.
pub async fn seed_password_logins(
    state: &App,
    prefix: &str,
    n: usize,
    password: &str,
    email_code: bool,
) -> Result<Vec<SeededPassword>, AppError> {
    let salt: [u8; 16] = sekisho_core::clock::random_bytes(state.rng.as_ref());
    let normalized = PasswordPolicy::normalize(password);
    let phc = state.hashes.hash(&state.metrics, normalized, salt).await?;
    let now = state.clock.now();
    let client = ClientInfo::default();
    let fail_limit = i64::from(state.settings.email_code.max_tries);
    let what = if email_code {
        "a password and an e-mail code waiting"
    } else {
        "a password"
    };
    let mut out = Vec::with_capacity(n);
    let mut batch = Vec::with_capacity(PER_CALL.min(n));
    for i in 0..n {
        let login_id = format!("{prefix}{i:06}");
        let (challenge, kept) = if email_code {
            let token = sekisho_core::token::generate("sksc", state.rng.as_ref());
            let token_hash = sekisho_core::token::hash(&token);
            let (code, issued) = crate::email_code::issue(state, &token_hash, fail_limit);
            let seed = SeedChallenge {
                token_hash,
                methods: Factor::names(&[Factor::Email]),
                expires_at: crate::email_code::challenge_expiry(state, now),
                code: issued,
            };
            (Some(seed), Some((token, code)))
        } else {
            (None, None)
        };
        let audit = state.event(
            EventType::LoginCreated,
            Some(&login_id),
            Actor::System,
            &client,
            format!("login seeded in bulk with {what}"),
        );
        batch.push(SeedLogin {
            login: NewLogin {
                login_id: login_id.clone(),
                display_name: "Seed".into(),
                email: format!("{login_id}@example.com"),
                lang: Lang::Ja,
                second_factor: if email_code {
                    SecondFactor::Email
                } else {
                    SecondFactor::None
                },
                mfa_required: email_code,
                notify_login: None,
                now,
            },
            password_hash: Some(phc.clone()),
            factor: SeedFactor::None,
            challenge,
            audit,
        });
        out.push(SeededPassword {
            login_id,
            challenge: kept,
        });
        if batch.len() == PER_CALL {
            state.store.seed_logins(&batch).await?;
            batch.clear();
        }
    }
    if !batch.is_empty() {
        state.store.seed_logins(&batch).await?;
    }
    Ok(out)
}

/// What the seeded authorization codes are bound to: the client, the redirect URI, the PKCE
/// challenge and the DPoP key, as the authorization request would have bound them.
#[derive(Debug, Clone)]
pub struct CodeBinding {
    /// The client the codes are issued to.
    pub client_id: String,
    /// The redirect URI the token request must name.
    pub redirect_uri: String,
    /// The PKCE `S256` challenge of the verifier the token requests send.
    pub code_challenge: String,
    /// The thumbprint of the DPoP key the codes are bound to (`dpop_jkt`).
    pub dpop_jkt: Option<String>,
    /// The granted scope.
    pub scope: String,
}

/// Issues `n` authorization codes to the login `login_id` (which must exist) in bulk, as if it
/// had just authorized `bind.client_id` with a password and an authenticator-app code: each
/// valid for [`crate::oidc::grants::CODE_SECS`] from now and used once, like a code of the flow
/// (whose audit record of the authorization and session sign-in are not written). Answers the
/// codes in clear, for the caller to exchange.
pub async fn seed_oidc_codes(
    state: &App,
    login_id: &str,
    bind: &CodeBinding,
    n: usize,
) -> Result<Vec<String>, AppError> {
    let login = state
        .store
        .get_login(login_id)
        .await?
        .ok_or(Error::LoginNotFound)?;
    let now = state.clock.now();
    let methods = ["pwd".to_owned(), "otp".to_owned()];
    let (acr, amr) = crate::oidc::grants::proven(&methods);
    let acr = state.settings.oidc.acr_values.of(acr).to_owned();
    let amr = amr.iter().map(|a| a.as_str()).collect::<Vec<_>>().join(" ");
    let mut out = Vec::with_capacity(n);
    let mut batch = Vec::with_capacity(PER_CALL.min(n));
    for _ in 0..n {
        let code = sekisho_core::token::generate("skac", state.rng.as_ref());
        batch.push(NewOidcCode {
            code_hash: sekisho_core::token::hash(&code),
            client_id: bind.client_id.clone(),
            redirect_uri: bind.redirect_uri.clone(),
            code_challenge: bind.code_challenge.clone(),
            nonce: None,
            scope: bind.scope.clone(),
            login_pk: login.id,
            session_id: None,
            auth_time: now,
            acr: acr.clone(),
            amr: amr.clone(),
            dpop_jkt: bind.dpop_jkt.clone(),
            authorization_details: None,
            created_at: now,
            expires_at: now.plus_secs(crate::oidc::grants::CODE_SECS),
        });
        out.push(code);
        if batch.len() == PER_CALL {
            state.store.seed_oidc_codes(&batch).await?;
            batch.clear();
        }
    }
    if !batch.is_empty() {
        state.store.seed_oidc_codes(&batch).await?;
    }
    Ok(out)
}

fn seal(state: &App, secret: &[u8], aad: &[u8], nonce: [u8; 12]) -> Result<String, AppError> {
    state
        .secrets
        .seal(secret, aad, nonce)
        .ok_or_else(|| Error::Internal.into())
}
