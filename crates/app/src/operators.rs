//! Operators (the firm's staff): creation with a one-time setup link, setup (password, then
//! authenticator app), login with password and code, and their sessions. Shared by the admin
//! API and the CLI (`sekisho operator create`).

use crate::error::AppError;

use crate::factor_guard::{self, Counter, Refusal};
use crate::state::App;
use sekisho_core::audit::{Actor, ClientInfo, EventType, NewAuditEvent};
use sekisho_core::clock::random_bytes;
use sekisho_core::lockout::Verdict;
use sekisho_core::operator::OperatorRole;
use sekisho_core::otp::{self, OtpParams, TotpCheck, TotpReject};
use sekisho_core::password::PasswordPolicy;
use sekisho_core::secret_box::SecretBox;
use sekisho_core::{token, Error, Random, Timestamp};
use sekisho_store::{Operator, OperatorFailure, OperatorSession, Store, StoreError};

/// The prefix of operator session tokens.
pub const OPERATOR_SESSION_PREFIX: &str = "skso";

/// How long a setup link stays valid.
pub const SETUP_SECS: i64 = 72 * 3600;
/// Absolute lifetime of an operator session (idle: the customer session's idle timeout).
pub const SESSION_SECS: i64 = 8 * 3600;
/// Operators' authenticator apps use the defaults every app understands.
const PARAMS: OtpParams = OtpParams {
    algorithm: otp::Algorithm::Sha1,
    digits: 6,
    period: 30,
};
/// Steps accepted either side of the expected one.
const WINDOW: u32 = 1;

/// Checks an operator name: 1–64 of `a-z 0-9 . _ -`.
pub fn check_name(name: &str) -> Result<(), Error> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidOperatorName)
    }
}

/// Checks a role name.
pub fn check_role(role: &str) -> Result<OperatorRole, Error> {
    OperatorRole::parse(role)
        .ok_or_else(|| Error::InvalidRequest("role must be admin or support".into()))
}

/// The keyed hash under which a setup token is stored.
pub fn setup_hash(secrets: &SecretBox, token: &str) -> String {
    secrets.code_hash("operator-setup", token)
}

/// A created operator and its one-time setup token (shown once).
pub struct CreatedOperator {
    /// The stored operator.
    pub operator: Operator,
    /// The setup link's secret token; the doors make the link from it
    /// (`{public_url}/admin/setup/{token}`).
    pub setup_token: String,
    /// Until when the link works.
    pub expires_at: Timestamp,
}

/// Creates an operator with a setup link; the audit record names `actor`.
#[allow(clippy::too_many_arguments)]
pub async fn create_operator(
    store: &dyn Store,
    secrets: &SecretBox,
    rng: &dyn Random,
    now: Timestamp,
    name: &str,
    role: &str,
    actor: Actor,
    client: &ClientInfo,
) -> Result<CreatedOperator, AppError> {
    check_name(name)?;
    let role = check_role(role)?;
    let token = token::generate("skst", rng);
    let expires_at = now.plus_secs(SETUP_SECS);
    let ev = NewAuditEvent::new(
        now,
        EventType::OperatorCreated,
        None,
        actor,
        client,
        format!("operator {name} created with role {role}; setup link issued"),
    );
    let operator = match store
        .create_operator(
            name,
            role,
            &setup_hash(secrets, &token),
            expires_at,
            now,
            &ev,
        )
        .await
    {
        Ok(o) => o,
        Err(StoreError::Conflict) => return Err(Error::OperatorExists.into()),
        Err(e) => return Err(e.into()),
    };
    Ok(CreatedOperator {
        operator,
        setup_token: token,
        expires_at,
    })
}

/// Issues a new setup link for an existing operator (clearing its password and factor); returns
/// its token and end.
pub async fn reissue_setup(
    state: &App,
    op: &Operator,
    actor: Actor,
    client: &ClientInfo,
) -> Result<(String, Timestamp), AppError> {
    let now = state.clock.now();
    let token = token::generate("skst", state.rng.as_ref());
    let expires_at = now.plus_secs(SETUP_SECS);
    let ev = NewAuditEvent::new(
        now,
        EventType::OperatorUpdated,
        None,
        actor,
        client,
        format!("new setup link for operator {}", op.name),
    );
    if !state
        .store
        .reset_operator_setup(
            op.id,
            &setup_hash(&state.secrets, &token),
            expires_at,
            now,
            &ev,
        )
        .await?
    {
        return Err(Error::OperatorNotFound.into());
    }
    Ok((token, expires_at))
}

fn aad(op: &Operator) -> Vec<u8> {
    aad_of(op.id)
}

/// The associated data of an operator's sealed app secrets (active and pending).
pub(crate) fn aad_of(operator_pk: i64) -> Vec<u8> {
    format!("operator:{operator_pk}").into_bytes()
}

/// The operator a setup token belongs to, while the link is valid.
async fn setup_operator(state: &App, token: &str) -> Result<(Operator, String), AppError> {
    if token.len() > 128 {
        return Err(Error::OperatorSetupInvalid.into());
    }
    let hash = setup_hash(&state.secrets, token);
    let op = state
        .store
        .find_operator_setup(&hash, state.clock.now())
        .await?
        .ok_or(Error::OperatorSetupInvalid)?;
    Ok((op, hash))
}

/// The operator a setup link is for (while it is valid): the setup page names it and its
/// password rules forbid it.
pub async fn setup_name(state: &App, token: &str) -> Result<String, AppError> {
    Ok(setup_operator(state, token).await?.0.name)
}

/// The authenticator-app enrolment handed out by the first setup step.
pub struct Enrolment {
    /// The operator.
    pub name: String,
    /// `otpauth://totp/…`.
    pub otpauth_uri: String,
    /// The same as a QR code (SVG).
    pub qr_svg: String,
    /// The key in base32, to type in by hand.
    pub secret: String,
}

/// First setup step: checks and sets the password, creates the authenticator secret.
pub async fn setup_password(
    state: &App,
    token: &str,
    password: &str,
) -> Result<Enrolment, AppError> {
    let (op, hash) = setup_operator(state, token).await?;
    let password = PasswordPolicy::normalize(password);
    state
        .settings
        .password_policy
        .check(&password, &op.name, true)?;
    let salt: [u8; 16] = random_bytes(state.rng.as_ref());
    let phc = state.hashes.hash(&state.metrics, password, salt).await?;
    let secret = otp::generate_secret(state.rng.as_ref());
    let sealed = state
        .secrets
        .seal(&secret, &aad(&op), random_bytes(state.rng.as_ref()))
        .ok_or(Error::Internal)?;
    if !state
        .store
        .set_operator_credentials(op.id, &hash, &phc, &sealed, state.clock.now())
        .await?
    {
        return Err(Error::OperatorSetupInvalid.into());
    }
    let issuer = format!("{} (operator)", state.settings.totp.issuer);
    let uri = otp::otpauth_uri(&issuer, &op.name, &secret, PARAMS);
    let qr_svg = qrcode::QrCode::new(uri.as_bytes())
        .map_err(|_| AppError::from(Error::Internal))?
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(240, 240)
        .build();
    Ok(Enrolment {
        name: op.name,
        otpauth_uri: uri,
        qr_svg,
        secret: otp::base32_encode(&secret),
    })
}

/// Second setup step: a code from the app activates it and uses up the link.
pub async fn setup_confirm(
    state: &App,
    client: &ClientInfo,
    token: &str,
    code: &str,
) -> Result<Operator, AppError> {
    let (op, hash) = setup_operator(state, token).await?;
    let pending = op
        .totp_pending_enc
        .as_deref()
        .ok_or(Error::OperatorSetupInvalid)?;
    let secret = state
        .secrets
        .open(pending, &aad(&op))
        .ok_or(Error::Internal)?;
    let now = state.clock.now();
    let TotpCheck::Accepted { step, .. } =
        otp::verify_totp(&secret, code, now, PARAMS, WINDOW, 0, None)
    else {
        return Err(Error::SecondFactorInvalid.into());
    };
    let ev = NewAuditEvent::new(
        now,
        EventType::OperatorSetupCompleted,
        None,
        Actor::Operator(op.name.clone()),
        client,
        "password and authenticator app set",
    );
    if !state
        .store
        .complete_operator_setup(op.id, &hash, step, now, &ev)
        .await?
    {
        return Err(Error::OperatorSetupInvalid.into());
    }
    Ok(op)
}

/// Whether an operator session may be used now.
pub fn session_is_active(state: &App, s: &OperatorSession, now: Timestamp) -> bool {
    s.revoked_at.is_none()
        && !s.disabled
        && now < s.expires_at
        && now
            < s.last_seen_at
                .plus_secs(state.settings.session.idle_timeout_secs)
}

/// An operator session handed out by [`login`].
pub struct OperatorLogin {
    /// The bearer token (shown once).
    pub token: String,
    /// The session.
    pub session: OperatorSession,
}

/// Operator login: name, password and a code from the authenticator app, all required. Wrong
/// passwords lock after `operators.lockout_threshold`, wrong codes after
/// `operators.code_lockout_threshold` (a used code is refused without counting, as for
/// customers); every answer but success is `invalid_credentials` or, to the right password of
/// an operator that is disabled but not locked, `login_disabled`. A locked operator gets
/// `invalid_credentials` to every password, uncounted (issue 16: no password oracle).
pub async fn login(
    state: &App,
    client: &ClientInfo,
    name: &str,
    password: &str,
    code: &str,
) -> Result<OperatorLogin, AppError> {
    let password = PasswordPolicy::normalize(password);
    let name = &sekisho_core::validate::typed_identifier(name);
    let op = if check_name(name).is_ok() {
        state.store.get_operator(name).await?
    } else {
        None
    };
    let now = state.clock.now();
    let actor = Actor::Operator(name.chars().take(64).collect());
    let ev =
        |ty: EventType, what: &str| NewAuditEvent::new(now, ty, None, actor.clone(), client, what);
    let Some(op) = op else {
        state.hashes.verify(&state.metrics, password, None).await?;
        state
            .store
            .append_audit(
                &ev(EventType::OperatorLoginFailed, "unknown operator")
                    .with_error(Error::InvalidCredentials.code()),
            )
            .await?;
        return Err(Error::InvalidCredentials.into());
    };
    let owner = sekisho_store::PasswordOwner::Operator(op.id);
    let right =
        crate::auth::verify_password(state, owner, password, op.password_hash.clone()).await?;
    let fail = |verdict: Verdict, kind: OperatorFailure, threshold: u32, reason: &'static str| {
        factor_guard::settle(
            state,
            verdict,
            Refusal {
                counter: Counter::Operator(op.id, kind),
                threshold,
                subject: "operator",
                login_id: None,
                actor: actor.clone(),
                client,
                event_type: EventType::OperatorLoginFailed,
                reason,
                error: Error::InvalidCredentials,
            },
        )
    };
    // No password oracle (issue 16): a locked operator gets the same answer to every password
    // after the same work, and nothing more is counted; the history says what happened.
    if op.locked_at.is_some() {
        let reason = if right {
            "operator locked (right password)"
        } else {
            "operator locked (wrong password)"
        };
        let refusal = Refusal {
            counter: Counter::Operator(op.id, OperatorFailure::Password),
            threshold: u32::MAX,
            subject: "operator",
            login_id: None,
            actor: actor.clone(),
            client,
            event_type: EventType::OperatorLoginFailed,
            reason,
            error: Error::LoginLocked,
        };
        factor_guard::settle(state, Verdict::Locked, refusal).await?;
        return Err(Error::InvalidCredentials.into());
    }
    if !right {
        let threshold = state.settings.operators.password_threshold();
        fail(
            Verdict::Wrong,
            OperatorFailure::Password,
            threshold,
            "wrong password",
        )
        .await?;
        return Err(Error::InvalidCredentials.into());
    }
    // Disablement is told only to a caller who knows the password (and, wrong passwords
    // counting toward the lock, within the same few guesses any login allows).
    if op.disabled {
        state
            .store
            .append_audit(
                &ev(EventType::OperatorLoginFailed, "operator disabled")
                    .with_error(Error::LoginDisabled.code()),
            )
            .await?;
        return Err(Error::LoginDisabled.into());
    }
    let Some(sealed) = op.totp_secret_enc.as_deref() else {
        fail(
            Verdict::Wrong,
            OperatorFailure::Password,
            u32::MAX,
            "setup not completed",
        )
        .await?;
        return Err(Error::InvalidCredentials.into());
    };
    let secret = state
        .secrets
        .open(sealed, &aad(&op))
        .ok_or(Error::Internal)?;
    let step = match otp::verify_totp(&secret, code, now, PARAMS, WINDOW, 0, op.totp_last_step) {
        TotpCheck::Accepted { step, .. } => step,
        TotpCheck::Rejected { reason } => {
            let (verdict, what) = if reason == TotpReject::Replayed {
                (Verdict::Replayed, "one-time code already used")
            } else {
                (Verdict::Wrong, "wrong one-time code")
            };
            let threshold = state.settings.operators.code_threshold();
            fail(verdict, OperatorFailure::Code, threshold, what).await?;
            return Err(Error::InvalidCredentials.into());
        }
    };
    let token = token::generate(OPERATOR_SESSION_PREFIX, state.rng.as_ref());
    let session = state
        .store
        .create_operator_session(
            op.id,
            &token::hash(&token),
            step,
            now,
            now.plus_secs(SESSION_SECS),
            client.ip.as_deref(),
            client.user_agent.as_deref(),
            &ev(
                EventType::OperatorLoginSucceeded,
                "password and one-time code",
            ),
        )
        .await?
        .ok_or(Error::InvalidCredentials)?;
    Ok(OperatorLogin { token, session })
}

/// The active operator session a bearer token or console cookie names (touched as used), or
/// `None`. Shared by the admin API's extractor and the console.
pub async fn session_for_token(state: &App, t: &str) -> Result<Option<OperatorSession>, AppError> {
    if !(t.starts_with(OPERATOR_SESSION_PREFIX) && t.as_bytes().get(4) == Some(&b'_')) {
        return Ok(None);
    }
    let now = state.clock.now();
    let s = state
        .store
        .get_operator_session(&token::hash(t))
        .await?
        .filter(|s| session_is_active(state, s, now));
    if let Some(s) = &s {
        state.store.touch_operator_session(s.id, now).await?;
    }
    Ok(s)
}

/// Ends an operator session (API `DELETE /session` and the console's logout), audited with the
/// operator as actor.
pub async fn logout(state: &App, client: &ClientInfo, s: &OperatorSession) -> Result<(), AppError> {
    let now = state.clock.now();
    let ev = NewAuditEvent::new(
        now,
        EventType::OperatorLoggedOut,
        None,
        Actor::Operator(s.name.clone()),
        client,
        "logout",
    );
    state.store.revoke_operator_session(s.id, now, &ev).await?;
    Ok(())
}
