//! Logins seeded in bulk, each with an active second factor whose secret is sealed with the
//! server's keyring exactly as an enrolment (authenticator app) or a token import (HOTP token)
//! seals it. The benchmark (`sekisho-bench`) and the crash test (`survive.rs`) seed through
//! here, so both exercise the server's own checks on realistic rows.

use crate::error::AppError;
use crate::state::App;
use sekisho_core::audit::{Actor, ClientInfo, EventType};
use sekisho_core::login::SecondFactor;
use sekisho_core::otp::{OtpKind, OtpParams};
use sekisho_core::{Error, Lang};
use sekisho_store::{NewLogin, NewToken, SeedFactor, SeedLogin};

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
            factor,
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

fn seal(state: &App, secret: &[u8], aad: &[u8], nonce: [u8; 12]) -> Result<String, AppError> {
    state
        .secrets
        .seal(secret, aad, nonce)
        .ok_or_else(|| Error::Internal.into())
}
