//! Authenticator-app (TOTP) checks shared by the login, enrolment and validation endpoints:
//! open the sealed secret, apply the window, drift and replay rules of core, and record the
//! outcome atomically in the database (so each code works once across all instances).

use crate::error::AppError;
use crate::factor_guard::{self, Counter, Refusal};
use crate::state::App;
use sekisho_core::audit::{Actor, ClientInfo, EventType, NewAuditEvent};
use sekisho_core::lockout::Verdict;
use sekisho_core::otp::{self, OtpParams, TotpCheck, TotpReject};
use sekisho_core::Error;
use sekisho_store::{FactorState, OtpFactor};

/// The associated data binding a sealed secret to its factor.
pub fn secret_aad(uid: &str) -> Vec<u8> {
    format!("otp:{uid}").into_bytes()
}

/// The factor's parameters.
pub fn params(f: &OtpFactor) -> OtpParams {
    OtpParams {
        algorithm: f.algorithm,
        digits: f.digits,
        period: f.period,
    }
}

/// Decrypts the factor's secret.
pub fn open_secret(state: &App, f: &OtpFactor) -> Result<Vec<u8>, AppError> {
    state
        .secrets
        .open(&f.secret_enc, &secret_aad(&f.uid))
        .ok_or_else(|| {
            tracing::error!(factor = %f.uid, "cannot decrypt a factor secret: wrong master key?");
            Error::Internal.into()
        })
}

/// The login's active TOTP, if any.
pub async fn active_totp(state: &App, login_pk: i64) -> Result<Option<OtpFactor>, AppError> {
    Ok(state
        .store
        .otp_factors(login_pk)
        .await?
        .into_iter()
        .find(|f| f.method == "totp" && f.state == FactorState::Active))
}

/// What an accepted code does besides being used up.
pub struct OnSuccess {
    /// Make a pending factor active (enrolment confirmation).
    pub activate: bool,
    /// The audit event for the success, written with it.
    pub audit: Option<NewAuditEvent>,
}

/// Checks `code` against the factor. A wrong or expired code counts toward the factor's lock
/// (the failure that reaches the threshold locks it); an already used one is refused without
/// counting.
pub async fn check_code(
    state: &App,
    client: &ClientInfo,
    login_id: &str,
    actor: Actor,
    f: &OtpFactor,
    code: &str,
    on_success: OnSuccess,
) -> Result<(), AppError> {
    if f.locked_at.is_some() {
        return Err(Error::SecondFactorLocked.into());
    }
    let secret = open_secret(state, f)?;
    let now = state.clock.now();
    let check = otp::verify_totp(
        &secret,
        code,
        now,
        params(f),
        state.settings.totp.window,
        f.drift,
        f.last_step,
    );
    let replayed = match check {
        TotpCheck::Accepted { step, new_drift } => {
            if state
                .store
                .accept_otp(
                    f.id,
                    step,
                    new_drift,
                    now,
                    on_success.activate,
                    on_success.audit.as_ref(),
                )
                .await?
            {
                return Ok(());
            }
            // Another request (maybe on another instance) used this step first.
            true
        }
        TotpCheck::Rejected { reason } => reason == TotpReject::Replayed,
    };
    let (verdict, reason) = if replayed {
        (
            Verdict::Replayed,
            "authenticator app: one-time password already used",
        )
    } else {
        (
            Verdict::Wrong,
            "authenticator app: wrong or expired one-time password",
        )
    };
    let settled = factor_guard::settle(
        state,
        verdict,
        Refusal {
            counter: Counter::App(f.id),
            threshold: state.settings.totp.lockout_threshold,
            subject: "authenticator app",
            login_id: Some(login_id),
            actor,
            client,
            event_type: EventType::SecondFactorFailed,
            reason,
            error: Error::SecondFactorInvalid,
        },
    )
    .await?;
    Err(match settled.answer {
        Verdict::Locked => Error::SecondFactorLocked,
        _ => Error::SecondFactorInvalid,
    }
    .into())
}
