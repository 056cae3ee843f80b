//! Step-up confirmation: the signed proof (JWS `EdDSA`, signed with the keys of
//! [`crate::keys`]) and the factors that can confirm (one enum: codes and passkeys). The API
//! (`routes::step_up`) and the page (`pages::step_up`) only call these.

use crate::error::AppError;
use crate::hwtoken;
use crate::keys::{self, Alg};
pub use crate::keys::{JwkSet, PublicJwk};
use crate::state::App;
use crate::totp::{self, OnSuccess};
use sekisho_core::audit::{Actor, ClientInfo, EventType};
use sekisho_core::clock::random_bytes;
use sekisho_core::login::Login;
use sekisho_core::secret_box::SecretBox;
use sekisho_core::step_up::{ConfirmMethod, OperationKind, StepUpPolicy};
use sekisho_core::{token, Error, Random, Timestamp};
use sekisho_store::{OtpFactor, OtpToken, SigningKey, StepUpRequest, Store};
use serde::{Deserialize, Serialize};

/// The JWS algorithm of the proofs (RFC 8037: Ed25519).
pub const ALGORITHM: &str = "EdDSA";
/// The proof's JOSE `typ`, so a proof cannot be mistaken for another kind of JWT.
pub const PROOF_TYP: &str = "step-up+jwt";
/// Prefix of step-up request IDs.
pub const ID_PREFIX: &str = "sksu";

/// `step_up.*`: step-up confirmation of important operations.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StepUpSettings {
    /// How long the customer has to answer a request.
    pub request_ttl_secs: i64,
    /// How long a proof is valid after it was signed (`exp` − `iat`).
    pub proof_ttl_secs: i64,
    /// The proofs' `iss`; empty: the public URL.
    pub issuer: String,
    /// Methods that may confirm.
    pub allowed_methods: Vec<ConfirmMethod>,
    /// Kinds only a passkey confirms.
    pub passkey_required_kinds: Vec<OperationKind>,
}

impl Default for StepUpSettings {
    fn default() -> Self {
        StepUpSettings {
            request_ttl_secs: 600,
            proof_ttl_secs: 300,
            issuer: String::new(),
            allowed_methods: ConfirmMethod::ALL.to_vec(),
            passkey_required_kinds: Vec::new(),
        }
    }
}

impl StepUpSettings {
    /// Which methods may confirm which kinds.
    pub fn policy(&self) -> StepUpPolicy {
        StepUpPolicy {
            allowed: self.allowed_methods.clone(),
            passkey_required: self.passkey_required_kinds.clone(),
        }
    }

    /// Checks the values (an error names the key) and drops a trailing `/` of the issuer.
    pub fn check(&mut self) -> Result<(), String> {
        if !(60..=86_400).contains(&self.request_ttl_secs) {
            return Err("step_up.request_ttl_secs must be 60 to 86400".into());
        }
        if !(30..=3_600).contains(&self.proof_ttl_secs) {
            return Err("step_up.proof_ttl_secs must be 30 to 3600".into());
        }
        if self.allowed_methods.is_empty() {
            return Err("step_up.allowed_methods must name at least one method".into());
        }
        if !self.passkey_required_kinds.is_empty()
            && !self.allowed_methods.contains(&ConfirmMethod::Passkey)
        {
            return Err(
                "step_up.passkey_required_kinds needs \"passkey\" in step_up.allowed_methods"
                    .into(),
            );
        }
        self.issuer = self.issuer.trim_end_matches('/').to_owned();
        Ok(())
    }
}

/// The proofs' issuer.
pub fn issuer(state: &App) -> String {
    let s = &state.settings;
    if s.step_up.issuer.is_empty() {
        s.public_url.trim_end_matches('/').to_owned()
    } else {
        s.step_up.issuer.clone()
    }
}

/// Makes a new Ed25519 key for step-up proofs (see [`keys::create_key`]).
pub async fn create_key(
    store: &dyn Store,
    secrets: &SecretBox,
    rng: &dyn Random,
    now: Timestamp,
    actor: Actor,
    client: &ClientInfo,
) -> Result<SigningKey, Error> {
    keys::create_key(store, secrets, rng, now, actor, client, Alg::EdDSA).await
}

/// The JWK Set of every key not retired (an Ed25519 key made on first need): what a relying app
/// needs to verify proofs. The OpenID Connect keys, once made, are in it too.
pub async fn jwks(state: &App, client: &ClientInfo) -> Result<JwkSet, AppError> {
    keys::jwks(state, client, &[Alg::EdDSA]).await
}

/// The operation as the proof names it.
#[derive(Debug, Clone, Serialize)]
pub struct Operation {
    pub kind: String,
    pub description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<Amount>,
}

/// An amount with its currency.
#[derive(Debug, Clone, Serialize)]
pub struct Amount {
    pub value: String,
    pub currency: String,
}

impl Operation {
    /// The operation of a stored request.
    pub fn of(r: &StepUpRequest) -> Operation {
        Operation {
            kind: r.kind.as_str().into(),
            description: r.description.clone(),
            amount: match (&r.amount, &r.currency) {
                (Some(v), Some(c)) => Some(Amount {
                    value: v.clone(),
                    currency: c.clone(),
                }),
                _ => None,
            },
        }
    }
}

/// The claims of a step-up proof.
#[derive(Debug, Serialize)]
struct Claims<'a> {
    iss: String,
    sub: &'a str,
    aud: &'a str,
    iat: i64,
    exp: i64,
    jti: &'a str,
    auth_time: i64,
    amr: &'static [&'static str],
    method: &'static str,
    operation: Operation,
}

/// Signs the proof that `method` confirmed request `id` at `now` (compact JWS, RFC 7515).
pub async fn sign_proof(
    state: &App,
    client: &ClientInfo,
    id: &str,
    r: &StepUpRequest,
    method: ConfirmMethod,
    now: Timestamp,
) -> Result<String, AppError> {
    let claims = Claims {
        iss: issuer(state),
        sub: &r.login_id,
        aud: &r.audience,
        iat: now.0,
        exp: now.0 + state.settings.step_up.proof_ttl_secs,
        jti: id,
        auth_time: now.0,
        amr: method.amr(),
        method: method.as_str(),
        operation: Operation::of(r),
    };
    keys::sign(state, client, Alg::EdDSA, PROOF_TYP, &claims).await
}

/// The associated data binding a sealed proof to its request.
pub fn proof_aad(id_hash: &str) -> Vec<u8> {
    format!("step-up-proof:{id_hash}").into_bytes()
}

/// A new request ID and its hash.
pub fn new_id(rng: &dyn Random) -> (String, String) {
    let id = token::generate(ID_PREFIX, rng);
    let hash = token::hash(&id);
    (id, hash)
}

/// A factor of the login that can confirm, with what it needs to check a code.
pub enum Confirmer {
    /// The active authenticator app.
    Totp(OtpFactor),
    /// The registered hardware or software token.
    Token(OtpToken),
    /// The login's passkeys (any of them not suspended); answered by a ceremony bound to the
    /// request ([`passkey_binding`]), not by a code.
    Passkey,
}

/// What a passkey ceremony for step-up request `id_hash` is bound to: an assertion from a
/// ceremony begun for anything else (a login, another request) does not confirm this one.
pub fn passkey_binding(id_hash: &str) -> String {
    format!("step-up:{id_hash}")
}

impl Confirmer {
    /// The method this factor confirms with.
    pub fn method(&self) -> ConfirmMethod {
        match self {
            Confirmer::Totp(_) => ConfirmMethod::Totp,
            Confirmer::Token(_) => ConfirmMethod::Token,
            Confirmer::Passkey => ConfirmMethod::Passkey,
        }
    }

    /// The token ID to show next to the prompt (tokens only).
    pub fn token_id(&self) -> Option<&str> {
        match self {
            Confirmer::Totp(_) | Confirmer::Passkey => None,
            Confirmer::Token(t) => Some(&t.token_id),
        }
    }

    /// Checks a fresh code: each code once, wrong codes count toward the factor's lock and are
    /// audited (`second_factor_failed`), exactly as at login.
    pub async fn check(
        &self,
        state: &App,
        client: &ClientInfo,
        login_id: &str,
        code: &str,
    ) -> Result<(), AppError> {
        match self {
            Confirmer::Totp(f) => {
                let on = OnSuccess {
                    activate: false,
                    audit: None,
                };
                totp::check_code(state, client, login_id, Actor::SelfService, f, code, on).await
            }
            Confirmer::Token(t) => {
                hwtoken::check_login_code(state, client, login_id, t, code).await
            }
            // A passkey answers through its ceremony, never with a typed code.
            Confirmer::Passkey => Err(Error::PasskeyInvalid.into()),
        }
    }
}

/// The login's factors that may confirm an operation of `kind`, by the firm's policy.
pub async fn confirmers(
    state: &App,
    login: &Login,
    kind: OperationKind,
) -> Result<Vec<Confirmer>, AppError> {
    let mut has = Vec::new();
    // Passkeys first: phishing-resistant, so the page offers them before the codes.
    let passkeys = crate::passkey::list(state, login.id).await?;
    if passkeys.iter().any(|p| p.counter_regressed_at.is_none()) {
        has.push(Confirmer::Passkey);
    }
    if let Some(f) = totp::active_totp(state, login.id).await? {
        has.push(Confirmer::Totp(f));
    }
    if let Some(t) = hwtoken::registered_token(state, login.id).await? {
        has.push(Confirmer::Token(t));
    }
    let methods: Vec<ConfirmMethod> = has.iter().map(Confirmer::method).collect();
    let usable = state.settings.step_up.policy().usable(kind, &methods);
    Ok(has
        .into_iter()
        .filter(|c| usable.contains(&c.method()))
        .collect())
}

/// Confirms the request with an accepted factor: signs the proof, seals it and records the
/// answer with `step_up_confirmed` in one transaction. Of concurrent confirmations one wins;
/// the others get `step_up_finished` (or `step_up_expired` past the end).
pub async fn confirm(
    state: &App,
    client: &ClientInfo,
    id: &str,
    r: &StepUpRequest,
    method: ConfirmMethod,
) -> Result<(), AppError> {
    let now = state.clock.now();
    let jws = sign_proof(state, client, id, r, method, now).await?;
    let sealed = state
        .secrets
        .seal(
            jws.as_bytes(),
            &proof_aad(&r.id_hash),
            random_bytes(state.rng.as_ref()),
        )
        .ok_or(Error::Internal)?;
    let ev = state.event(
        EventType::StepUpConfirmed,
        Some(&r.login_id),
        Actor::SelfService,
        client,
        format!(
            "{} confirmed with {} for {}: {}",
            r.kind,
            method.as_str(),
            r.audience,
            r.description
        ),
    );
    let answer = sekisho_store::StepUpAnswer::Confirmed {
        method,
        proof_sealed: sealed,
    };
    if state
        .store
        .answer_step_up(&r.id_hash, &answer, now, &ev)
        .await?
    {
        return Ok(());
    }
    Err(refusal(state, client, r, now).await?.into())
}

/// Records the customer's refusal (`step_up_refused`); false if it was already answered.
pub async fn refuse(state: &App, client: &ClientInfo, r: &StepUpRequest) -> Result<(), AppError> {
    let now = state.clock.now();
    let ev = state.event(
        EventType::StepUpRefused,
        Some(&r.login_id),
        Actor::SelfService,
        client,
        format!("{} refused by the customer: {}", r.kind, r.description),
    );
    if state
        .store
        .answer_step_up(&r.id_hash, &sekisho_store::StepUpAnswer::Refused, now, &ev)
        .await?
    {
        return Ok(());
    }
    Err(refusal(state, client, r, now).await?.into())
}

/// Why a request can no longer be answered, recorded as `step_up_failed`.
pub async fn refusal(
    state: &App,
    client: &ClientInfo,
    r: &StepUpRequest,
    now: Timestamp,
) -> Result<Error, AppError> {
    let e = match state.store.get_step_up(&r.id_hash).await? {
        Some(cur) if cur.state_at(now) == sekisho_core::step_up::StepUpState::Expired => {
            Error::StepUpExpired
        }
        _ => Error::StepUpFinished,
    };
    fail(state, client, &r.login_id, &e, "request no longer pending").await?;
    Ok(e)
}

/// Appends a `step_up_failed` record for a refused attempt.
pub async fn fail(
    state: &App,
    client: &ClientInfo,
    login_id: &str,
    e: &Error,
    why: &str,
) -> Result<(), AppError> {
    let ev = state
        .event(
            EventType::StepUpFailed,
            Some(login_id),
            Actor::SelfService,
            client,
            format!("step-up: {why}"),
        )
        .with_error(e.code());
    state.store.append_audit(&ev).await?;
    Ok(())
}
