//! Step-up confirmation: the signing keys (Ed25519, JWS `EdDSA`, published as a JWK Set), the
//! signed proof, and the factors that can confirm (one enum: codes and passkeys). The API
//! (`routes::step_up`) and the page (`pages::step_up`) only call these.

use crate::error::AppError;
use crate::hwtoken;
use crate::state::App;
use crate::totp::{self, OnSuccess};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use ring::signature::{Ed25519KeyPair, KeyPair};
use sekisho_core::audit::{Actor, ClientInfo, EventType, NewAuditEvent};
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

fn key_aad(kid: &str) -> Vec<u8> {
    format!("signing-key:{kid}").into_bytes()
}

/// PKCS#8 v1 (RFC 8410) wrapping of an Ed25519 seed, the form ring and jsonwebtoken take.
fn pkcs8(seed: &[u8; 32]) -> Vec<u8> {
    let mut der = vec![
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    der.extend_from_slice(seed);
    der
}

/// Makes a new signing key from the injected RNG, seals its private half and stores it with
/// its audit record; from then on it is the newest key and signs. Older keys stay published
/// until they are retired.
pub async fn create_key(
    store: &dyn Store,
    secrets: &SecretBox,
    rng: &dyn Random,
    now: Timestamp,
    actor: Actor,
    client: &ClientInfo,
) -> Result<SigningKey, Error> {
    let seed: [u8; 32] = random_bytes(rng);
    let pair = Ed25519KeyPair::from_seed_unchecked(&seed).map_err(|_| Error::Internal)?;
    let x = URL_SAFE_NO_PAD.encode(pair.public_key().as_ref());
    let id: [u8; 9] = random_bytes(rng);
    let kid = format!("sks-{}-{}", now.0, URL_SAFE_NO_PAD.encode(id));
    let jwk = PublicJwk {
        alg: ALGORITHM.into(),
        crv: "Ed25519".into(),
        kid: kid.clone(),
        kty: "OKP".into(),
        key_use: "sig".into(),
        x,
    };
    let private_sealed = secrets
        .seal(&seed, &key_aad(&kid), random_bytes(rng))
        .ok_or(Error::Internal)?;
    let key = SigningKey {
        kid: kid.clone(),
        algorithm: ALGORITHM.into(),
        private_sealed,
        public_jwk: serde_json::to_string(&jwk).map_err(|_| Error::Internal)?,
        created_at: now,
        retired_at: None,
    };
    let ev = NewAuditEvent::new(
        now,
        EventType::SigningKeyCreated,
        None,
        actor,
        client,
        format!("step-up signing key {kid} created"),
    );
    store
        .add_signing_key(&key, &ev)
        .await
        .map_err(|_| Error::Internal)?;
    Ok(key)
}

/// The key that signs: the newest one not retired, made on first need.
async fn signing_key(state: &App, client: &ClientInfo) -> Result<SigningKey, AppError> {
    let keys = state.store.signing_keys().await?;
    if let Some(k) = keys.into_iter().rev().find(|k| k.retired_at.is_none()) {
        return Ok(k);
    }
    Ok(create_key(
        state.store.as_ref(),
        &state.secrets,
        state.rng.as_ref(),
        state.clock.now(),
        Actor::System,
        client,
    )
    .await?)
}

/// The JWK Set (RFC 7517) of every key not retired: what a relying app needs to verify proofs.
pub async fn jwks(state: &App, client: &ClientInfo) -> Result<JwkSet, AppError> {
    signing_key(state, client).await?;
    let keys = state
        .store
        .signing_keys()
        .await?
        .into_iter()
        .rev()
        .filter(|k| k.retired_at.is_none())
        .filter_map(|k| serde_json::from_str(&k.public_jwk).ok())
        .collect();
    Ok(JwkSet { keys })
}

/// A JWK Set (RFC 7517 §5) as published.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct JwkSet {
    /// The keys, newest first.
    pub keys: Vec<PublicJwk>,
}

/// The public half of a signing key as a JWK (RFC 8037: an Ed25519 `OKP` key). The fields are
/// in alphabetical order so the stored text stays as it was written before this type existed.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PublicJwk {
    /// The JWS algorithm (`EdDSA`).
    pub alg: String,
    /// The curve (`Ed25519`).
    pub crv: String,
    /// The key ID that proofs name in their header.
    pub kid: String,
    /// The key type (`OKP`).
    pub kty: String,
    /// What the key is for (`sig`).
    #[serde(rename = "use")]
    pub key_use: String,
    /// The public key, base64url without padding.
    pub x: String,
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
    let key = signing_key(state, client).await?;
    let seed = state
        .secrets
        .open(&key.private_sealed, &key_aad(&key.kid))
        .ok_or_else(|| {
            tracing::error!(kid = %key.kid, "cannot open a signing key: wrong master key?");
            Error::Internal
        })?;
    let seed: [u8; 32] = seed.try_into().map_err(|_| Error::Internal)?;
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
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(key.kid.clone());
    header.typ = Some(PROOF_TYP.into());
    jsonwebtoken::encode(&header, &claims, &EncodingKey::from_ed_der(&pkcs8(&seed))).map_err(|e| {
        tracing::error!(error = %e, "signing a step-up proof failed");
        Error::Internal.into()
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkcs8_wrapping_is_what_ring_reads() {
        let seed = [7u8; 32];
        let from_seed = Ed25519KeyPair::from_seed_unchecked(&seed).ok();
        let from_der = Ed25519KeyPair::from_pkcs8_maybe_unchecked(&pkcs8(&seed)).ok();
        assert_eq!(
            from_seed.map(|k| k.public_key().as_ref().to_vec()),
            from_der.map(|k| k.public_key().as_ref().to_vec())
        );
    }
}
